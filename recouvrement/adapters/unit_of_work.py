"""A unit of work and its repositories: the ledger as the commands see it.

A service is given a `UnitOfWork` and reads and writes through its
repositories; the block that opened it commits when it ends and rolls back on
an error (`commit()` in between makes what is done so far durable):

    with resources.unit_of_work() as uow:
        problem = set_dispute(uow, "F-1", reason="goods damaged")

`SqlUnitOfWork` is the ledger's database: the repositories are the SQL the
services used to write inline, row locks included where a command needs them
(a reminder put back in the outbox, the phone tasks a call works).
`InMemoryUnitOfWork` keeps the same rows in dicts, for the services' tests
and the composition root's `test` environment: it ships with the package
(beside `FakeMailer` and `FakePdfRenderer`) because `bootstrap` builds it.

The rows are the ORM classes of `db/models.py`, used as plain records: the
in-memory repositories never need a database, and a service that sets an
attribute changes the ledger the same way on both. What needs leases and
locks across transactions (the outbox's claims, `outbox_claims.py`) and the
read-outs over whole batches stay on the database.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event
from recouvrement.adapters.db.models import (CallTask, Debtor, Invoice, LitigationDossier,
                                    LitigationPayment, PaymentPlan, Promise, Reminder,
                                    ReminderDelivery, ReminderItem)
from recouvrement.domain.calls import TO_WORK

# --- the repositories, as the services see them ------------------------------------------


class Debtors(Protocol):
    def by_account(self, account: str) -> Debtor | None:
        """The debtor with exactly this account (case included)."""
        ...

    def get(self, debtor_id: int) -> Debtor | None: ...

    def case_twins(self, account: str) -> list[str]:
        """Accounts that differ from `account` only by case, sorted."""
        ...


class Invoices(Protocol):
    def by_number(self, number: str) -> Invoice | None: ...

    def of_debtor(self, debtor_id: int) -> list[Invoice]:
        """Every invoice of the debtor, whatever its status, by number."""
        ...


class Reminders(Protocol):
    """The outbox's rows a person's command reads and changes (no claim, no lease)."""

    def with_key_prefix(self, prefix: str) -> list[Reminder]:
        """The reminders whose key starts with `prefix` (literally), locked until the end."""
        ...

    def deliveries(self, reminder_id: int) -> list[ReminderDelivery]:
        """The reminder's deliveries, in the order they were made."""
        ...

    def put_back(self, reminder_id: int, statuses: tuple[str, ...], status: str) -> None:
        """The reminder's deliveries in `statuses` go to `status`, attempts and claim cleared."""
        ...

    def highest_level_sent(self, debtor_id: int) -> int:
        """The highest level a sent reminder took the debtor's open invoices to (0 if none)."""
        ...


class CallTasks(Protocol):
    def to_work(self, debtor_id: int, today: date) -> list[CallTask]:
        """The debtor's tasks open or carried, due by `today`, locked until the end."""
        ...

    def add(self, task: CallTask) -> CallTask:
        """The task, written, with its id."""
        ...


class Pauses(Protocol):
    """What pauses a debtor's dunning: promises to pay and payment plans."""

    def add_promise(self, promise: Promise) -> Promise: ...

    def active_plan(self, debtor_id: int) -> PaymentPlan | None: ...

    def add_payment_plan(self, plan: PaymentPlan) -> PaymentPlan:
        """The plan, written, with its id."""
        ...


class Dossiers(Protocol):
    def get(self, dossier_id: str) -> LitigationDossier | None: ...

    def starting_with(self, prefix: str, limit: int) -> list[LitigationDossier]:
        """Up to `limit` dossiers whose id starts with `prefix` (literally: no wildcards)."""
        ...

    def paid(self, dossier_id: str) -> Decimal:
        """What the payments seen since the dossier was queued add up to."""
        ...


class AuditLog(Protocol):
    def record(self, events: Iterable[Event], actor: str) -> int:
        """Append the events (kinds of `domain/events.py`) in this unit of work."""
        ...


class UnitOfWork(Protocol):
    debtors: Debtors
    invoices: Invoices
    reminders: Reminders
    call_tasks: CallTasks
    pauses: Pauses
    dossiers: Dossiers
    audit: AuditLog

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(self, *exc_info: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


# --- over the ledger's database ---------------------------------------------------------


class SqlDebtors:
    def __init__(self, session: Session):
        self.session = session

    def by_account(self, account: str) -> Debtor | None:
        return self.session.scalar(select(Debtor).where(Debtor.account == account))

    def get(self, debtor_id: int) -> Debtor | None:
        return self.session.get(Debtor, debtor_id)

    def case_twins(self, account: str) -> list[str]:
        return sorted(a for a in self.session.scalars(select(Debtor.account).where(
            func.lower(Debtor.account) == account.lower())) if a != account)


class SqlInvoices:
    def __init__(self, session: Session):
        self.session = session

    def by_number(self, number: str) -> Invoice | None:
        return self.session.scalar(select(Invoice).where(Invoice.number == number))

    def of_debtor(self, debtor_id: int) -> list[Invoice]:
        return list(self.session.scalars(select(Invoice).where(Invoice.debtor_id == debtor_id)
                                         .order_by(Invoice.number)))


class SqlReminders:
    def __init__(self, session: Session):
        self.session = session

    def with_key_prefix(self, prefix: str) -> list[Reminder]:
        # The key is hexadecimal: compared as a literal prefix, never a LIKE pattern.
        found = self.session.scalars(
            select(Reminder).where(Reminder.key >= prefix, Reminder.key < prefix + "g")
            .order_by(Reminder.id).with_for_update(of=Reminder))
        return [r for r in found if r.key.startswith(prefix)]

    def deliveries(self, reminder_id: int) -> list[ReminderDelivery]:
        return list(self.session.scalars(select(ReminderDelivery).where(
            ReminderDelivery.reminder_id == reminder_id).order_by(ReminderDelivery.id)))

    def put_back(self, reminder_id: int, statuses: tuple[str, ...], status: str) -> None:
        self.session.execute(update(ReminderDelivery)
                             .where(ReminderDelivery.reminder_id == reminder_id,
                                    ReminderDelivery.status.in_(statuses))
                             .values(status=status, attempts=0, claimed_at=None,
                                     claimed_by=None))

    def highest_level_sent(self, debtor_id: int) -> int:
        return self.session.scalar(
            select(func.max(ReminderItem.level))
            .join(Reminder, Reminder.id == ReminderItem.reminder_id)
            .join(Invoice, Invoice.id == ReminderItem.invoice_id)
            .where(Invoice.debtor_id == debtor_id, Invoice.status == "open",
                   Reminder.status == "sent")) or 0


class SqlCallTasks:
    def __init__(self, session: Session):
        self.session = session

    def to_work(self, debtor_id: int, today: date) -> list[CallTask]:
        return list(self.session.scalars(select(CallTask).where(
            CallTask.debtor_id == debtor_id, CallTask.status.in_(TO_WORK),
            CallTask.due_on <= today).order_by(CallTask.id).with_for_update()))

    def add(self, task: CallTask) -> CallTask:
        self.session.add(task)
        self.session.flush()
        return task


class SqlPauses:
    def __init__(self, session: Session):
        self.session = session

    def add_promise(self, promise: Promise) -> Promise:
        self.session.add(promise)
        return promise

    def active_plan(self, debtor_id: int) -> PaymentPlan | None:
        return self.session.scalar(select(PaymentPlan).where(
            PaymentPlan.debtor_id == debtor_id, PaymentPlan.status == "active").limit(1))

    def add_payment_plan(self, plan: PaymentPlan) -> PaymentPlan:
        self.session.add(plan)
        self.session.flush()
        return plan


class SqlDossiers:
    def __init__(self, session: Session):
        self.session = session

    def get(self, dossier_id: str) -> LitigationDossier | None:
        return self.session.get(LitigationDossier, dossier_id)

    def starting_with(self, prefix: str, limit: int) -> list[LitigationDossier]:
        return list(self.session.scalars(
            select(LitigationDossier)
            .where(LitigationDossier.id.startswith(prefix, autoescape=True)).limit(limit)))

    def paid(self, dossier_id: str) -> Decimal:
        return self.session.scalar(select(func.sum(LitigationPayment.amount))
                                   .where(LitigationPayment.dossier_id == dossier_id)
                                   ) or Decimal(0)


class SqlAuditLog:
    def __init__(self, session: Session):
        self.session = session

    def record(self, events: Iterable[Event], actor: str) -> int:
        from recouvrement.adapters.audit import record

        return record(self.session, events, actor)


class SqlUnitOfWork:
    """One transaction on the ledger's database (`Database`), as `Database.session()` is:
    committed when the block ends, rolled back on an error, and the audit log's signed
    checkpoint written after a commit that appended to it."""

    def __init__(self, db):
        self.db = db
        self.session: Session | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        if self.session is not None:
            raise RuntimeError("a unit of work is entered once")
        self.session = Session(self.db.engine, expire_on_commit=False)
        self.session.begin()
        s = self.session
        self.debtors, self.invoices, self.reminders = SqlDebtors(s), SqlInvoices(s), SqlReminders(s)
        self.call_tasks, self.pauses = SqlCallTasks(s), SqlPauses(s)
        self.dossiers, self.audit = SqlDossiers(s), SqlAuditLog(s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        session, self.session = self.session, None
        try:
            if exc_type is None:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
        if exc_type is None:
            self._checkpoint()

    def commit(self) -> None:
        self.session.commit()
        self._checkpoint()
        self.session.begin()

    def rollback(self) -> None:
        self.session.rollback()
        self.session.begin()

    def _checkpoint(self) -> None:
        from recouvrement.adapters.db.checkpoints import checkpoint_if_due

        checkpoint_if_due(self.db.engine)


# --- in memory ------------------------------------------------------------------------------


@dataclass
class Recorded:
    """An audit entry as the in-memory log keeps it."""

    event: Event
    actor: str


@dataclass
class MemoryLedger:
    """The rows of an in-memory ledger, shared by the units of work opened on it."""

    debtors: dict[int, Debtor] = field(default_factory=dict)
    invoices: dict[int, Invoice] = field(default_factory=dict)
    reminders: dict[int, Reminder] = field(default_factory=dict)
    deliveries: dict[int, ReminderDelivery] = field(default_factory=dict)
    items: dict[int, ReminderItem] = field(default_factory=dict)
    call_tasks: dict[int, CallTask] = field(default_factory=dict)
    promises: dict[int, Promise] = field(default_factory=dict)
    plans: dict[int, PaymentPlan] = field(default_factory=dict)
    dossiers: dict[str, LitigationDossier] = field(default_factory=dict)
    payments: dict[int, LitigationPayment] = field(default_factory=dict)
    audit: list[Recorded] = field(default_factory=list)

    _TABLES = {Debtor: "debtors", Invoice: "invoices", Reminder: "reminders",
               ReminderDelivery: "deliveries", ReminderItem: "items", CallTask: "call_tasks",
               Promise: "promises", PaymentPlan: "plans", LitigationDossier: "dossiers",
               LitigationPayment: "payments"}

    def add(self, row: Any) -> Any:
        """Put a row in its table, with an id if it has none (the next one)."""
        table: dict = getattr(self, self._TABLES[type(row)])
        if getattr(row, "id", None) is None:
            row.id = max(table, default=0) + 1
        if isinstance(row, Invoice) and row.disputed is None:
            row.disputed = False  # the column's default, as the database gives it
        table[row.id] = row
        return row

    def tables(self) -> dict[str, dict]:
        return {name: getattr(self, name) for name in self._TABLES.values()}


def _values(row: Any) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in vars(row).items() if not k.startswith("_sa_")}


class _Memory:
    def __init__(self, ledger: MemoryLedger):
        self.ledger = ledger


class MemoryDebtors(_Memory):
    def by_account(self, account: str) -> Debtor | None:
        return next((d for d in self.ledger.debtors.values() if d.account == account), None)

    def get(self, debtor_id: int) -> Debtor | None:
        return self.ledger.debtors.get(debtor_id)

    def case_twins(self, account: str) -> list[str]:
        return sorted(d.account for d in self.ledger.debtors.values()
                      if d.account.lower() == account.lower() and d.account != account)


class MemoryInvoices(_Memory):
    def by_number(self, number: str) -> Invoice | None:
        return next((i for i in self.ledger.invoices.values() if i.number == number), None)

    def of_debtor(self, debtor_id: int) -> list[Invoice]:
        return sorted((i for i in self.ledger.invoices.values() if i.debtor_id == debtor_id),
                      key=lambda i: i.number)


class MemoryReminders(_Memory):
    def with_key_prefix(self, prefix: str) -> list[Reminder]:
        return sorted((r for r in self.ledger.reminders.values() if r.key.startswith(prefix)),
                      key=lambda r: r.id)

    def deliveries(self, reminder_id: int) -> list[ReminderDelivery]:
        return sorted((d for d in self.ledger.deliveries.values()
                       if d.reminder_id == reminder_id), key=lambda d: d.id)

    def put_back(self, reminder_id: int, statuses: tuple[str, ...], status: str) -> None:
        for d in self.deliveries(reminder_id):
            if d.status in statuses:
                d.status, d.attempts, d.claimed_at, d.claimed_by = status, 0, None, None

    def highest_level_sent(self, debtor_id: int) -> int:
        invoices, reminders = self.ledger.invoices, self.ledger.reminders
        return max((item.level for item in self.ledger.items.values()
                    if invoices[item.invoice_id].debtor_id == debtor_id
                    and invoices[item.invoice_id].status == "open"
                    and reminders[item.reminder_id].status == "sent"), default=0)


class MemoryCallTasks(_Memory):
    def to_work(self, debtor_id: int, today: date) -> list[CallTask]:
        return sorted((t for t in self.ledger.call_tasks.values()
                       if t.debtor_id == debtor_id and t.status in TO_WORK
                       and t.due_on <= today), key=lambda t: t.id)

    def add(self, task: CallTask) -> CallTask:
        return self.ledger.add(task)


class MemoryPauses(_Memory):
    def add_promise(self, promise: Promise) -> Promise:
        return self.ledger.add(promise)

    def active_plan(self, debtor_id: int) -> PaymentPlan | None:
        return next((p for p in self.ledger.plans.values()
                     if p.debtor_id == debtor_id and p.status == "active"), None)

    def add_payment_plan(self, plan: PaymentPlan) -> PaymentPlan:
        return self.ledger.add(plan)


class MemoryDossiers(_Memory):
    def get(self, dossier_id: str) -> LitigationDossier | None:
        return self.ledger.dossiers.get(dossier_id)

    def starting_with(self, prefix: str, limit: int) -> list[LitigationDossier]:
        return [d for i, d in sorted(self.ledger.dossiers.items()) if i.startswith(prefix)][:limit]

    def paid(self, dossier_id: str) -> Decimal:
        return sum((p.amount for p in self.ledger.payments.values()
                    if p.dossier_id == dossier_id), Decimal(0))


class MemoryAuditLog(_Memory):
    def record(self, events: Iterable[Event], actor: str) -> int:
        from recouvrement.domain.events import event_kind

        events = list(events)
        for e in events:
            event_kind(e.event)  # only the catalogue's kinds, as the real log
        self.ledger.audit.extend(Recorded(e, actor) for e in events)
        return len(events)


class InMemoryUnitOfWork:
    """The same repositories over a `MemoryLedger`: committed when the block ends, and on
    an error (or `rollback()`) every row put back as it was at the last commit."""

    def __init__(self, ledger: MemoryLedger | None = None):
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.commits = 0
        self.rollbacks = 0
        self._saved: dict[str, Any] | None = None
        led = self.ledger
        self.debtors, self.invoices = MemoryDebtors(led), MemoryInvoices(led)
        self.reminders, self.call_tasks = MemoryReminders(led), MemoryCallTasks(led)
        self.pauses, self.dossiers, self.audit = (MemoryPauses(led), MemoryDossiers(led),
                                                  MemoryAuditLog(led))

    def __enter__(self) -> "InMemoryUnitOfWork":
        self._save()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def commit(self) -> None:
        self.commits += 1
        self._save()

    def rollback(self) -> None:
        self.rollbacks += 1
        saved = self._saved or {"tables": {}, "audit": 0}
        for name, table in self.ledger.tables().items():
            rows = saved["tables"].get(name, {})
            table.clear()
            for key, (row, values) in rows.items():
                for attribute in [k for k in _values(row) if k not in values]:
                    delattr(row, attribute)
                for attribute, value in values.items():
                    setattr(row, attribute, value)
                table[key] = row
        del self.ledger.audit[saved["audit"]:]

    def _save(self) -> None:
        self._saved = {"tables": {name: {key: (row, _values(row)) for key, row in table.items()}
                                  for name, table in self.ledger.tables().items()},
                       "audit": len(self.ledger.audit)}
