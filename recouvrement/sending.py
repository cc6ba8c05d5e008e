"""Send what the outbox holds, each reminder claimed, sent and marked in turn.

A row is claimed (planned -> sending) in its own commit before the SMTP
conversation and marked sent in another right after it, so a second run
never claims a row that is being sent. A row left in `sending` by a run that
died is taken up again once its lease has expired and resent with the same
Message-ID, which receiving servers use to drop a duplicate: a reminder is
never lost, and at worst delivered to the relay twice under one identity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import and_, or_, select, update

from recouvrement.audit import Event, record
from recouvrement.db import Database
from recouvrement.db.models import Debtor, Invoice, Reminder, ReminderItem
from recouvrement.mail.mailer import Mailer, PermanentSendError, SendError, TransientSendError
from recouvrement.mail.render import RenderedReminder, build_email


@dataclass
class SendReport:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Pacing:
    """How hard the relay is pushed: retries of transient errors, backoff, send rate."""

    retries: int = 3
    backoff_seconds: float = 1.0  # doubles at each retry
    rate_per_second: float = 0.0  # 0: as fast as the relay answers

    def deliver(self, mailer: Mailer, message, sleep: Callable[[float], None] = time.sleep) -> None:
        """Send, retrying only what the relay said might work later (4xx, disconnects)."""
        for attempt in range(self.retries + 1):
            try:
                mailer.send(message)
                return
            except TransientSendError:
                if attempt == self.retries:
                    raise
                sleep(self.backoff_seconds * 2 ** attempt)

    def wait_turn(self, last_sent: float | None) -> float:
        """Keep to the send rate; returns the time of this send."""
        if self.rate_per_second > 0 and last_sent is not None:
            gap = 1 / self.rate_per_second - (time.monotonic() - last_sent)
            if gap > 0:
                time.sleep(gap)
        return time.monotonic()


def _claimable(now: datetime, lease: timedelta):
    return or_(Reminder.status.in_(("planned", "failed")),
               and_(Reminder.status == "sending", Reminder.claimed_at < now - lease))


def send_outbox(db: Database, mailer_factory: Callable[[], Mailer], *, today: date, sender: str,
                actor: str, run_id: str | None, lease_minutes: int = 15,
                account: str | None = None, pacing: Pacing = Pacing()) -> SendReport:
    report = SendReport()
    last_sent = None
    lease = timedelta(minutes=lease_minutes)
    with db.session() as session:
        query = (select(Reminder.id, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
                 .where(_claimable(datetime.now(timezone.utc), lease)).order_by(Reminder.id))
        if account is not None:
            query = query.where(Debtor.account == account)
        candidates = session.execute(query).all()
    if not candidates:
        return report
    with mailer_factory() as mailer:
        for reminder_id, debtor_account in candidates:
            row = _claim(db, reminder_id, run_id, lease, actor)
            if row is None:
                continue
            item = {"account": debtor_account, "level": row.level, "invoices": row.invoice_numbers,
                    "key": row.key}
            if row.status == "cancelled":
                report.cancelled.append(item)
                continue
            try:
                message = build_email(
                    RenderedReminder(row.subject, row.body_text, row.body_html), sender=sender,
                    to=row.recipient, debtor_account=debtor_account, level=row.level,
                    invoice_numbers=row.invoice_numbers, message_id=row.message_id)
                last_sent = pacing.wait_turn(last_sent)
                pacing.deliver(mailer, message)
            except (SendError, ValueError) as exc:
                permanent = isinstance(exc, (PermanentSendError, ValueError))
                _finish(db, reminder_id, "failed", actor, debtor_account, row.key,
                        {"error": str(exc), "permanent": permanent}, today)
                report.failed.append({**item, "error": str(exc), "permanent": permanent})
                continue
            _finish(db, reminder_id, "sent", actor, debtor_account, row.key,
                    {"level": row.level, "invoices": row.invoice_numbers,
                     "message_id": row.message_id}, today)
            report.sent.append(item)
    return report


def _claim(db: Database, reminder_id: int, run_id: str | None, lease: timedelta, actor: str):
    """Take the row for this run, or None when another run has it or it went out."""
    now = datetime.now(timezone.utc)
    with db.session() as session:
        claimed = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, _claimable(now, lease))
            .values(status="sending", claimed_at=now, claimed_by=run_id,
                    attempts=Reminder.attempts + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        row = session.get(Reminder, reminder_id)
        session.refresh(row)
        stale = _no_longer_due(session, reminder_id)
        if stale:
            row.status = "cancelled"
            record(session, [Event("reminder.cancelled", subject=row.key,
                                   details={"why": stale})], actor)
        session.expunge(row)
        return row


def _no_longer_due(session, reminder_id: int) -> str | None:
    """Why the reminder must not go out any more, if something changed since it was planned."""
    states = session.execute(
        select(Invoice.number, Invoice.status, Invoice.disputed, ReminderItem.level)
        .join(ReminderItem, ReminderItem.invoice_id == Invoice.id)
        .where(ReminderItem.reminder_id == reminder_id)).all()
    chased = [s for s in states if s.level is not None]
    if all(s.status != "open" or s.disputed for s in chased):
        return "every invoice it chases was paid or disputed since it was planned"
    if any(s.status != "open" or s.disputed for s in states):
        return "an invoice it lists was paid or disputed since it was planned"
    return None


def _finish(db: Database, reminder_id: int, status: str, actor: str, account: str, key: str,
            details: dict[str, Any], today: date) -> None:
    now = datetime.now(timezone.utc)
    values: dict[str, Any] = {"status": status}
    if status == "sent":
        values.update(sent_at=now, sent_on=today, last_error=None)
    else:
        values.update(last_error=details.get("error"))
    with db.session() as session:
        session.execute(update(Reminder).where(Reminder.id == reminder_id).values(**values)
                        .execution_options(synchronize_session=False))
        record(session, [Event(f"reminder.{status}", account, key, details)], actor)
