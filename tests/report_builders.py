"""A small ledger with a known history, for the report's tests (figures computed by hand there)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, Invoice, Reminder, ReminderItem
from recouvrement.ingest.load import ingest_inbox
from tests.factories import customer, invoice, write_customers, write_invoices

AS_OF = date(2026, 3, 31)
# Snapshot of the open items on each export day: (number, account, issued, due, amount, open)
JAN1 = ("JAN1", "411A", date(2026, 1, 10), date(2026, 2, 9), "8000.00")
BND = ("BND", "411A", date(2026, 1, 30), date(2026, 3, 1), "1000.00")   # exactly 30 days late
FEB1 = ("FEB1", "411B", date(2026, 2, 10), date(2026, 3, 12), "12000.00")
MAR1 = ("MAR1", "411A", date(2026, 3, 5), date(2026, 4, 4), "10000.00")
SNAPSHOTS = [
    (date(2026, 1, 31), [(JAN1, "8000.00"), (BND, "1000.00")]),
    (date(2026, 2, 28), [(JAN1, "8000.00"), (BND, "1000.00"), (FEB1, "12000.00")]),
    (date(2026, 3, 20), [(JAN1, "3000.00"), (BND, "1000.00"), (FEB1, "12000.00"),
                         (MAR1, "10000.00")]),
    (AS_OF, [(JAN1, "3000.00"), (BND, "1000.00"), (FEB1, "12000.00"), (MAR1, "10000.00")]),
]


@pytest.fixture
def ledger(database_url, tmp_path):
    db = Database(database_url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_customers(inbox, [customer("411A"), customer("411B", kind="B2C")])
    for day, rows in SNAPSHOTS:
        write_invoices(inbox, day, [invoice(n, a, due, amount, open_, issued=issued)
                                    for (n, a, issued, due, amount), open_ in rows])
        with db.session() as session:
            ingest_inbox(session, inbox, actor="test", run_id=None, today=day)
    with db.session() as session:  # a level-2 reminder chased JAN1 on 10 March
        _sent_reminder(session, "411A", "JAN1", level=2, on=date(2026, 3, 10))
        _sent_reminder(session, "411B", "FEB1", level=1, on=date(2026, 3, 13))
    return db


def _sent_reminder(session, account: str, number: str, *, level: int, on: date) -> None:
    debtor_id = session.scalar(select(Debtor.id).where(Debtor.account == account))
    invoice_id = session.scalar(select(Invoice.id).where(Invoice.number == number))
    now = datetime(on.year, on.month, on.day, 9, tzinfo=timezone.utc)
    reminder = Reminder(key=f"k-{number}-{level}", debtor_id=debtor_id, level=level,
                        invoice_numbers=[number], planned_on=on, message_id=f"<{number}{level}@t>",
                        subject="s", body_text="t", body_html="h", status="sent", sent_on=on,
                        sent_at=now, created_at=now)
    session.add(reminder)
    session.flush()
    session.add(ReminderItem(reminder_id=reminder.id, invoice_id=invoice_id, level=level))
