"""A ledger with reminders sent, built directly, for the litigation and retention tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from recouvrement.adapters.db.models import Debtor, Invoice, Reminder, ReminderDelivery, ReminderItem
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.services.litigation import escalate
from tests.factories import write_customers, write_invoices

POLICY = load_policy()


def export(db, home, day, customers, invoices, *, confirmed=False):
    """The day's exports, read; `confirmed`: as `ingest --confirm` takes the day's invoices."""
    inbox = home / "inbox"
    write_customers(inbox, customers)
    path = write_invoices(inbox, day, invoices)
    with db.session() as session:
        report = ingest_inbox(session, inbox, actor="test", run_id=None, today=day,
                              confirm=[path.name] if confirmed else ())
    return report


def send(db, account, level, numbers, on, message_id=None):
    """A reminder of `level` sent on `on`, as the outbox leaves it."""
    with db.session() as session:
        debtor_id = session.scalar(select(Debtor.id).where(Debtor.account == account))
        ids = dict(session.execute(select(Invoice.number, Invoice.id)
                                   .where(Invoice.number.in_(numbers))).all())
        key = f"{account}-{level}-{on}"
        reminder_id = session.scalar(insert(Reminder).returning(Reminder.id), {
            "key": key, "debtor_id": debtor_id, "level": level, "channel": "email",
            "invoice_numbers": list(numbers), "planned_on": on,
            "message_id": f"<{key}@creancier.example.com>" if message_id is None else message_id,
            "recipient": f"compta@{account[3:].lower()}.example.com",
            "subject": f"Niveau {level} {', '.join(numbers)}", "body_text": f"Relance {level}\n",
            "body_html": f"<p>Relance {level}</p>", "status": "sent", "attempts": 1,
            "sent_on": on, "sent_at": datetime.now(timezone.utc),
            "created_at": datetime.now(timezone.utc)})
        session.execute(insert(ReminderItem), [{"reminder_id": reminder_id, "invoice_id": ids[n],
                                                "level": level} for n in numbers])
        # Its e-mail's delivery, proved by the Message-ID; without one, it proves nothing.
        proof = f"<{key}@creancier.example.com>" if message_id is None else message_id
        session.execute(insert(ReminderDelivery), {
            "reminder_id": reminder_id, "channel": "email", "attempts": 1,
            "status": "sent" if proof else "skipped", "proof": proof or None,
            "sent_at": datetime.now(timezone.utc) if proof else None})


def post(db, account, level, on, path):
    """The letter of the reminder of `level` sent on `on` went to the print queue at `path`
    (as the outbox leaves it: its delivery proved by the file)."""
    with db.session() as session:
        reminder_id = session.scalar(select(Reminder.id).where(
            Reminder.key == f"{account}-{level}-{on}"))
        session.execute(update(Reminder).where(Reminder.id == reminder_id)
                        .values(letter_file=str(path), channel="email,letter"))
        session.execute(insert(ReminderDelivery), {
            "reminder_id": reminder_id, "channel": "letter", "attempts": 1, "status": "sent",
            "proof": str(path), "sent_at": datetime.now(timezone.utc)})


def ladder(db, account, numbers, notice_on, **kw):
    """Reminder, second reminder and formal notice, the last one on `notice_on`."""
    send(db, account, 1, numbers, notice_on - timedelta(days=23))
    send(db, account, 2, numbers, notice_on - timedelta(days=8))
    send(db, account, 3, numbers, notice_on, **kw)


def escalate_on(db, day, account=None):
    with db.session() as session:
        return escalate(session, today=day, policy=POLICY, actor="flow-run:test", account=account)
