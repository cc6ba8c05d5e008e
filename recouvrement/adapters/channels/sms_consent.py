"""A debtor who answered STOP: recorded once, audited, and never texted until opted in."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db.models import Debtor, SmsOptOut
from recouvrement.domain.events import EventKind


class ConsentError(ValueError):
    """An opt-out or opt-in that cannot be recorded as asked (exit 2)."""


def _debtor(session: Session, account: str) -> Debtor:
    debtor = session.scalar(select(Debtor).where(Debtor.account == account))
    if debtor is None:
        raise ConsentError(f"no debtor with account {account!r}")
    return debtor


def opt_out(session: Session, account: str, *, actor: str, source: str | None = None
            ) -> dict[str, Any]:
    """Record that the debtor answered STOP; a second time changes nothing."""
    debtor = _debtor(session, account)
    found = session.get(SmsOptOut, debtor.id)
    if found is not None:
        return {"account": account, "changed": False, "since": found.since}
    now = datetime.now(timezone.utc)
    session.add(SmsOptOut(debtor_id=debtor.id, since=now, source=source))
    record(session, [Event(EventKind.SMS_OPTED_OUT, account, details={"source": source})], actor)
    return {"account": account, "changed": True, "since": now}


def opt_in(session: Session, account: str, *, actor: str, source: str | None = None
           ) -> dict[str, Any]:
    """Texts may go to the debtor again (it asked for them); a second time changes nothing."""
    debtor = _debtor(session, account)
    gone = session.execute(delete(SmsOptOut).where(SmsOptOut.debtor_id == debtor.id)).rowcount
    if gone:
        record(session, [Event(EventKind.SMS_OPTED_IN, account, details={"source": source})],
               actor)
    return {"account": account, "changed": bool(gone)}
