"""The outbox as a person sees it: the reminders that did not go out, and trying one again.

A reminder the outbox gave up on (`given_up`, after `send_max_attempts`
tries) waits here: nothing new is planned for its debtor until someone has
fixed the cause and put it back (`retry`), which the audit log records.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.db.models import Debtor, Reminder

WAITING = ("failed", "given_up")
RETRIABLE = ("failed", "given_up")


class OutboxError(ValueError):
    """A request about the outbox that cannot be carried out (exit 2)."""


def waiting_rows(session: Session, statuses: tuple[str, ...] = WAITING) -> list[dict[str, Any]]:
    """The reminders in these states, oldest first, with their last error."""
    rows = session.execute(
        select(Reminder, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
        .where(Reminder.status.in_(statuses)).order_by(Reminder.id)).all()
    return [{"key": r.key[:12], "account": account, "level": r.level, "status": r.status,
             "attempts": r.attempts, "planned_on": r.planned_on.isoformat(),
             "invoices": list(r.invoice_numbers), "error": r.last_error or ""}
            for r, account in rows]


def retry(session: Session, key: str, *, actor: str) -> dict[str, Any]:
    """Put a failed or given-up reminder back to `planned`, its attempts counted afresh."""
    if len(key) < 8 or not key.isalnum():
        raise OutboxError(f"give at least the first 8 characters of the reminder's key, "
                          f"as `recouvrement outbox list` shows them (not {key!r})")
    # The key is hexadecimal: compared as a literal prefix, never a LIKE pattern.
    found = session.execute(
        select(Reminder, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
        .where(Reminder.key >= key.lower(), Reminder.key < key.lower() + "g")
        .with_for_update(of=Reminder)).all()
    found = [(r, a) for r, a in found if r.key.startswith(key.lower())]
    if not found:
        raise OutboxError(f"no reminder whose key starts with {key!r}")
    if len(found) > 1:
        raise OutboxError(f"{len(found)} reminders have keys starting with {key!r}: give more")
    row, account = found[0]
    if row.status not in RETRIABLE:
        raise OutboxError(f"reminder {key} for {account} is {row.status}: only a failed or "
                          "given-up reminder is tried again")
    before, attempts = row.status, row.attempts
    row.status, row.attempts = "planned", 0
    record(session, [Event(EventKind.REMINDER_RETRIED, account, row.key,
                           {"was": before, "attempts_before": attempts,
                            "last_error": row.last_error})], actor)
    return {"key": row.key[:12], "account": account, "level": row.level, "was": before}
