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
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import and_, or_, select, update

from recouvrement.audit import Event, record
from recouvrement.db import Database
from recouvrement.db.models import Debtor, Invoice, Reminder, ReminderItem
from recouvrement.mail.mailer import Mailer, PermanentSendError, SendError, TransientSendError
from recouvrement.mail.letters import PrintQueue, merge_pdfs
from recouvrement.mail.render import RenderedReminder, build_email
from recouvrement.pdf import PdfRenderer
from recouvrement.shards import Shard, narrow


@dataclass
class SendReport:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[dict[str, Any]] = field(default_factory=list)
    letters: list[dict[str, Any]] = field(default_factory=list)  # put in the print queue
    switched: list[dict[str, Any]] = field(default_factory=list)  # e-mail refused: by letter


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


@dataclass
class Post:
    """The postal side: letters rendered to PDF and dropped in the print queue."""

    queue: PrintQueue
    pdf: PdfRenderer

    def letter(self, db: Database, row: Reminder) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The letter's PDF and, for a formal notice, copies of the earlier letters."""
        document = self.pdf.render(row.letter_html)
        earlier = []
        if row.level >= 3:
            with db.session() as session:
                files = session.scalars(
                    select(Reminder.letter_file).where(
                        Reminder.debtor_id == row.debtor_id, Reminder.status == "sent",
                        Reminder.level < row.level, Reminder.letter_file.is_not(None))
                    .order_by(Reminder.sent_on, Reminder.id)).all()
            earlier = [(Path(f).name, Path(f).read_bytes()) for f in files if Path(f).exists()]
        return document, earlier


def send_outbox(db: Database, mailer_factory: Callable[[], Mailer], *, today: date, sender: str,
                actor: str, run_id: str | None, lease_minutes: int = 15,
                account: str | None = None, pacing: Pacing = Pacing(),
                post: Post | None = None, shard: Shard | None = None,
                progress: Callable[[int, int], None] | None = None) -> SendReport:
    """Send every claimable reminder: by e-mail, by letter, or both, as its channels say.

    A reminder the relay refuses for good (5xx, a refused or unusable
    address) goes out as a letter instead, when a print queue is given.
    """
    report = SendReport()
    last_sent = None
    lease = timedelta(minutes=lease_minutes)
    with db.session() as session:
        query = (select(Reminder.id, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
                 .where(_claimable(datetime.now(timezone.utc), lease)).order_by(Reminder.id))
        candidates = session.execute(narrow(query, account, shard)).all()
    if not candidates:
        return report
    with mailer_factory() as mailer:
        for handled, (reminder_id, debtor_account) in enumerate(candidates):
            if progress is not None and handled:
                progress(handled, len(candidates))
            claimed = _claim(db, reminder_id, run_id, lease, actor)
            if claimed is None:
                continue
            row, debtor = claimed
            item = {"account": debtor_account, "level": row.level, "invoices": row.invoice_numbers,
                    "key": row.key}
            if row.status == "cancelled":
                report.cancelled.append(item)
                continue
            channels = row.channel.split(",")
            by_email = "email" in channels and bool(row.recipient)
            by_post = "letter" in channels or not by_email
            done: dict[str, Any] = {"level": row.level, "invoices": row.invoice_numbers}
            letter = post.letter(db, row) if post is not None and "letter" in channels else None
            try:
                if by_email:
                    message = build_email(
                        RenderedReminder(row.subject, row.body_text, row.body_html),
                        sender=sender, to=row.recipient, debtor_account=debtor_account,
                        level=row.level, invoice_numbers=row.invoice_numbers,
                        message_id=row.message_id)
                    if letter is not None:
                        _attach(message, row, letter)
                    last_sent = pacing.wait_turn(last_sent)
                    pacing.deliver(mailer, message)
                    done.update(email=row.recipient, message_id=row.message_id)
            except (SendError, ValueError) as exc:
                permanent = isinstance(exc, (PermanentSendError, ValueError))
                if not (permanent and post is not None):
                    _finish(db, reminder_id, "failed", actor, debtor_account, row.key,
                            {"error": str(exc), "permanent": permanent}, today)
                    report.failed.append({**item, "error": str(exc), "permanent": permanent})
                    continue
                by_post = True
                done["switched_to_letter"] = f"the e-mail was refused for good: {exc}"
                report.switched.append({**item, "error": str(exc)})
            values: dict[str, Any] = {}
            if by_post:
                if post is None:
                    error = "a letter is due but no print queue is configured"
                    _finish(db, reminder_id, "failed", actor, debtor_account, row.key,
                            {"error": error, "permanent": True}, today)
                    report.failed.append({**item, "error": error, "permanent": True})
                    continue
                letter = letter or post.letter(db, row)
                path = _post(post, row, debtor, letter, today)
                values = {"letter_file": str(path),
                          "channel": ",".join(dict.fromkeys([*channels, "letter"]))}
                done["letter"] = path.name
                report.letters.append({**item, "file": str(path)})
            _finish(db, reminder_id, "sent", actor, debtor_account, row.key, done, today, values)
            report.sent.append(item)
    if progress is not None:
        progress(len(candidates), len(candidates))
    return report


def _attach(message, row: Reminder, letter: tuple[bytes, list[tuple[str, bytes]]]) -> None:
    document, earlier = letter
    message.add_attachment(document, maintype="application", subtype="pdf",
                           filename=f"{'mise-en-demeure' if row.level >= 3 else 'relance'}.pdf")
    for name, content in earlier:
        message.add_attachment(content, maintype="application", subtype="pdf",
                               filename=f"copie-{name}")


def _post(post: Post, row: Reminder, debtor: Debtor,
          letter: tuple[bytes, list[tuple[str, bytes]]], today: date) -> Path:
    document, earlier = letter
    if earlier:
        document = merge_pdfs([document, *(content for _name, content in earlier)])
    return post.queue.add(day=today, key=row.key, pdf=document, account=debtor.account,
                          name=debtor.name, address=debtor.address, postcode=debtor.postcode,
                          city=debtor.city, country=debtor.country, level=row.level,
                          registered=row.level >= 2)


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
        debtor = session.get(Debtor, row.debtor_id)
        stale = _no_longer_due(session, reminder_id)
        if stale:
            row.status = "cancelled"
            record(session, [Event("reminder.cancelled", debtor.account, row.key,
                                   {"why": stale})], actor)
        session.flush()
        session.expunge(row)
        session.expunge(debtor)
        return row, debtor


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
            details: dict[str, Any], today: date, extra: dict[str, Any] | None = None) -> None:
    now = datetime.now(timezone.utc)
    values: dict[str, Any] = {"status": status, **(extra or {})}
    if status == "sent":
        values.update(sent_at=now, sent_on=today, last_error=None)
    else:
        values.update(last_error=details.get("error"))
    with db.session() as session:
        session.execute(update(Reminder).where(Reminder.id == reminder_id).values(**values)
                        .execution_options(synchronize_session=False))
        record(session, [Event(f"reminder.{status}", account, key, details)], actor)
