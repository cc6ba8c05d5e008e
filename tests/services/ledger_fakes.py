"""A small ledger for the commands' service tests: rows put straight in a `MemoryLedger`
(or, through `SqlRows`, in a session, to hold the SQL repositories to the same answers),
a clock stopped at one moment."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from recouvrement.adapters.db.models import (CallTask, Debtor, Invoice, LitigationDossier, Reminder,
                                    ReminderDelivery, ReminderItem)
from recouvrement.domain.events import event_kind
from recouvrement.adapters.unit_of_work import InMemoryUnitOfWork, MemoryLedger

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
TODAY = date(2026, 11, 2)


def clock() -> datetime:
    return NOW


def events(ledger: MemoryLedger) -> list[tuple[str, str | None, str | None]]:
    """The audit log's entries: (kind, account, subject)."""
    return [(event_kind(r.event.event).value, r.event.account, r.event.subject)
            for r in ledger.audit]


def debtor(ledger: MemoryLedger, account: str, **kw) -> Debtor:
    return ledger.add(Debtor(account=account, name=f"{account[3:].title()} SARL", kind="B2B",
                             **kw))


def invoice(ledger: MemoryLedger, owner: Debtor, number: str, *, due: date = date(2026, 10, 1),
            amount: str = "500.00", open_amount: str | None = None, status: str = "open",
            disputed: bool = False, **kw) -> Invoice:
    return ledger.add(Invoice(
        number=number, debtor_id=owner.id, issue_date=date(2026, 9, 1), due_date=due,
        amount=Decimal(amount), open_amount=Decimal(open_amount or amount), currency="EUR",
        status=status, disputed=disputed, **kw))


def reminder(ledger: MemoryLedger, owner: Debtor, key: str, *, status: str = "sent",
             level: int = 1, attempts: int = 0, last_error: str | None = None,
             invoices: tuple[Invoice, ...] = (),
             deliveries: dict[str, str] | None = None) -> Reminder:
    row = ledger.add(Reminder(key=key, debtor_id=owner.id, level=level, status=status,
                              attempts=attempts, last_error=last_error, planned_on=TODAY,
                              invoice_numbers=[i.number for i in invoices],
                              message_id=f"<{key}@test>", created_at=NOW))
    for i in invoices:
        ledger.add(ReminderItem(reminder_id=row.id, invoice_id=i.id, level=level))
    for channel, state in (deliveries or {}).items():
        ledger.add(ReminderDelivery(reminder_id=row.id, channel=channel, status=state,
                                    attempts=3, claimed_at=NOW, claimed_by="run-1",
                                    last_error=f"{channel} refused"))
    return row


def task(ledger: MemoryLedger, owner: Debtor, *, due: date = TODAY, status: str = "open",
         level: int = 1, reminder_id: int | None = None) -> CallTask:
    return ledger.add(CallTask(debtor_id=owner.id, reminder_id=reminder_id, level=level,
                               created_on=due, due_on=due, status=status))


def dossier(ledger: MemoryLedger, owner: Debtor, dossier_id: str, *, status: str = "queued",
            principal: str = "800.00") -> LitigationDossier:
    return ledger.add(LitigationDossier(
        id=dossier_id, debtor_id=owner.id, status=status, queued_on=TODAY,
        invoice_numbers=["F1"], principal=Decimal(principal), interest=Decimal(0),
        fixed_fees=Decimal("40.00"), total=Decimal(principal) + Decimal("40.00"),
        procedure="injonction_de_payer", reasons=[], created_at=NOW,
        statement=[{"invoice": "F1", "principal": principal, "ledger_open_amount": principal}]))


def unit(ledger: MemoryLedger) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(ledger)


class SqlRows:
    """The builders' `ledger` over a session: each row written at once, with its id."""

    def __init__(self, session):
        self.session = session

    def add(self, row):
        self.session.add(row)
        self.session.flush()
        return row
