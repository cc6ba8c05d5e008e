"""Read the ledger as the domain sees it, a chunk of debtors at a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import (
    AuditEntry,
    Debtor,
    Invoice,
    PaymentPlan,
    Promise,
    Reminder,
    ReminderItem,
)
from recouvrement.domain import model
from recouvrement.domain.agency import Held, chased_open
from recouvrement.domain.identity import SentLetter
from recouvrement.domain.legal import limitation_start, payments_from_changes
from recouvrement.domain.pauses import HONOURED, Instalment, PlanState, plan_state
from recouvrement.domain.model import late_chance
from recouvrement.adapters.shards import Shard, narrow

CHUNK_DEBTORS = 2_000
# A reminder that needs attention waits for a person: nothing new is planned for its debtor
# meanwhile.
PENDING = ("planned", "sending", "failed", "needs_attention")


@dataclass
class DebtorState:
    id: int
    debtor: model.Debtor
    invoices: list[model.Invoice]
    invoice_ids: dict[str, int]
    last_contact: date | None
    pending: bool
    # active payment plans and where each one stands today
    plans: list[tuple[PaymentPlan, PlanState]] = field(default_factory=list)
    # the reminders sent to the debtor, oldest first (an agency's letters recall the first)
    sent: tuple[SentLetter, ...] = ()

    @property
    def open_amount(self) -> Decimal:
        """What the debtor owes on its open invoices: the amount band of its policy."""
        return sum((i.open_amount for i in self.invoices), Decimal(0))


def to_domain_debtor(row: Debtor, promise_until: date | None = None) -> model.Debtor:
    return model.Debtor(
        account=row.account, name=row.name, kind=model.DebtorKind(row.kind), email=row.email,
        language=row.language or "fr", payment_terms_days=row.payment_terms_days,
        collective_proceedings_since=row.collective_proceedings_since, blocked=row.blocked,
        risk_class=row.risk_class, risk_probability=late_chance(row.risk_factors),
        promise_until=promise_until, address=row.address,
        postcode=row.postcode, city=row.city, country=row.country, legal_form=row.legal_form,
        trader=row.trader)


class UnknownDebtor(LookupError):
    """A run asked for an account the ledger does not know."""


def require_debtor(session: Session, account: str | None) -> None:
    if account is not None and session.scalar(
            select(Debtor.id).where(Debtor.account == account)) is None:
        raise UnknownDebtor(f"no debtor {account!r} in the ledger (a debtor new in today's "
                            "exports is loaded by the daily run for every debtor)")


def debtor_ids_with_open_invoices(session: Session, account: str | None = None,
                                  shard: Shard | None = None) -> list[int]:
    query = select(Invoice.debtor_id).where(Invoice.status == "open").distinct()
    if account is not None or shard is not None:
        query = narrow(query.join(Debtor, Debtor.id == Invoice.debtor_id), account, shard)
    return sorted(session.scalars(query))


def lock_debtors(session: Session, account: str | None = None, shard: Shard | None = None) -> None:
    """Hold the debtors of the run (all, one account or one shard) until the transaction ends.

    Two runs that share debtors decide about them one after the other; shards,
    which share none, go side by side. PostgreSQL: row locks taken in id order
    (no deadlock between two runs), FOR NO KEY UPDATE so that rows referring to
    a debtor can still be inserted meanwhile; SQLite: every transaction already
    holds the database's write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(narrow(select(Debtor.id), account, shard).order_by(Debtor.id)
                        .with_for_update(key_share=True)).all()


def load_states(session: Session, debtor_ids: list[int],
                today: date | None = None) -> Iterator[DebtorState]:
    """Debtors with their open invoices and what was sent about them, chunk by chunk.

    With `today`, the invoices of an honoured payment plan come marked paused.
    """
    for start in range(0, len(debtor_ids), CHUNK_DEBTORS):
        chunk = debtor_ids[start:start + CHUNK_DEBTORS]
        debtors = {d.id: d for d in session.scalars(select(Debtor).where(Debtor.id.in_(chunk)))}
        invoices = session.scalars(select(Invoice).where(
            Invoice.debtor_id.in_(chunk), Invoice.status == "open").order_by(Invoice.number)).all()
        sent: dict[int, dict[int, date]] = defaultdict(dict)
        last_request: dict[int, date] = {}
        for invoice_id, level, sent_on in session.execute(
                select(ReminderItem.invoice_id, ReminderItem.level, Reminder.sent_on)
                .join(Reminder, Reminder.id == ReminderItem.reminder_id)
                .join(Invoice, Invoice.id == ReminderItem.invoice_id)
                .where(Invoice.debtor_id.in_(chunk), Invoice.status == "open",
                       Reminder.status == "sent", ReminderItem.level.is_not(None))):
            levels = sent[invoice_id]
            levels[level] = min(levels.get(level, sent_on), sent_on)
            # The last written request for payment (interrupts a public debtor's prescription).
            last_request[invoice_id] = max(last_request.get(invoice_id, sent_on), sent_on)
        last_contact = dict(session.execute(
            select(Reminder.debtor_id, func.max(Reminder.sent_on))
            .where(Reminder.debtor_id.in_(chunk), Reminder.status == "sent")
            .group_by(Reminder.debtor_id)).all())
        letters: dict[int, list[SentLetter]] = defaultdict(list)
        for debtor_id, sent_on, message_id, numbers in session.execute(
                select(Reminder.debtor_id, Reminder.sent_on, Reminder.message_id,
                       Reminder.invoice_numbers)
                .where(Reminder.debtor_id.in_(chunk), Reminder.status == "sent",
                       Reminder.sent_on.is_not(None))
                .order_by(Reminder.sent_on, Reminder.id)):
            letters[debtor_id].append(SentLetter(sent_on, message_id, tuple(numbers or ())))
        pending = set(session.scalars(select(Reminder.debtor_id).where(
            Reminder.debtor_id.in_(chunk), Reminder.status.in_(PENDING)).distinct()))
        promises = dict(session.execute(
            select(Promise.debtor_id, Promise.until).where(Promise.debtor_id.in_(chunk))
            .order_by(Promise.created_at, Promise.id)).all())  # the latest promise wins
        plans: dict[int, list[PaymentPlan]] = defaultdict(list)
        for plan in session.scalars(select(PaymentPlan).where(
                PaymentPlan.debtor_id.in_(chunk), PaymentPlan.status == "active")):
            plans[plan.debtor_id].append(plan)
        by_debtor: dict[int, list[Invoice]] = defaultdict(list)
        for invoice in invoices:
            by_debtor[invoice.debtor_id].append(invoice)
        asked = {invoice_id: (on,) for invoice_id, on in last_request.items()}
        held = _agency_holds(session, [i.number for i in invoices])
        changes = open_amount_changes(session, [i for i in invoices if i.open_amount < i.amount],
                                      {d.id: d.account for d in debtors.values()})
        for debtor_id in chunk:
            row = debtors[debtor_id]
            kind = model.DebtorKind(row.kind)
            rows = by_debtor.get(debtor_id, [])
            # What the agency received and the creditor has not booked yet is not chased
            # (recouvrement/services/agency/payments.py); an invoice it pays in full drops out.
            rows = [i for i in rows if i.number not in held
                    or chased_open(i.open_amount, held[i.number]) > 0]
            invoices = [model.Invoice(
                number=i.number, account=row.account, issue_date=i.issue_date,
                due_date=i.due_date, amount=i.amount,
                open_amount=chased_open(i.open_amount, held[i.number]) if i.number in held
                else i.open_amount,
                currency=i.currency, disputed=i.disputed, in_litigation=i.dossier_id is not None,
                sent_levels=dict(sent.get(i.id, {})), set_off=i.set_off or Decimal(0),
                payments=payments_from_changes(i.amount, i.open_amount, i.due_date,
                                               changes.get(i.number, []))
                if i.open_amount < i.amount else (),
                limitation_start=limitation_start(kind, i.due_date, paid_on=i.last_payment_on,
                                                  acknowledged_on=i.acknowledged_on,
                                                  requests=asked.get(i.id, ())),
                limitation_earliest=limitation_start(
                    kind, min(i.issue_date, i.due_date), paid_on=i.last_payment_on,
                    acknowledged_on=i.acknowledged_on,
                    requests=asked.get(i.id, ())))
                for i in rows]
            states = [(plan, _plan_state(plan, invoices, today)) for plan in plans.get(debtor_id, [])
                      ] if today is not None else []
            for plan, state in states:
                if state.state == HONOURED:
                    covered = set(plan.invoice_numbers)
                    invoices = [replace(i, paused=state.reason) if i.number in covered else i
                                for i in invoices]
            yield DebtorState(
                id=debtor_id,
                debtor=to_domain_debtor(row, promises.get(debtor_id)),
                invoices=invoices,
                invoice_ids={i.number: i.id for i in rows},
                last_contact=last_contact.get(debtor_id),
                pending=debtor_id in pending,
                plans=states,
                sent=tuple(letters.get(debtor_id, ())),
            )


def _agency_holds(session: Session, numbers: list[str]) -> dict[str, list[Held]]:
    """Invoice -> the agency's payments on it not booked by the creditor yet (agency mode;
    an empty table otherwise)."""
    from recouvrement.adapters.db.agency_models import AgencyHold

    found: dict[str, list[Held]] = defaultdict(list)
    for start in range(0, len(numbers), 1000):
        for number, amount, expected in session.execute(
                select(AgencyHold.invoice_number, AgencyHold.amount, AgencyHold.expected_open)
                .where(AgencyHold.invoice_number.in_(numbers[start:start + 1000]),
                       AgencyHold.booked_on.is_(None)).order_by(AgencyHold.id)):
            found[number].append(Held(amount, expected))
    return found


def open_amount_changes(session: Session, invoices: list[Invoice],
                        accounts: dict[int, str]) -> dict[str, list[tuple[date, Decimal, Decimal]]]:
    """Invoice number -> (export date, open amount before, after), oldest first.

    The ledger keeps one row per invoice; its history is the audit log's
    `invoice.open_amount_changed` entries, written by each snapshot that
    changed the open amount. Their date is the export's: the day the payment
    showed, which the ledger cannot know better. Entries erased by a purge
    are skipped (what they explained is then counted on the due date).
    """
    found: dict[str, list[tuple[date, Decimal, Decimal]]] = defaultdict(list)
    numbers = {i.number for i in invoices}
    holders = sorted({accounts[i.debtor_id] for i in invoices})
    for start in range(0, len(holders), 1000):
        for subject, details in session.execute(
                select(AuditEntry.subject, AuditEntry.details)
                .where(AuditEntry.event == "invoice.open_amount_changed",
                       AuditEntry.account.in_(holders[start:start + 1000]),
                       AuditEntry.redacted_at.is_(None))
                .order_by(AuditEntry.id)):
            if subject not in numbers:
                continue
            try:
                found[subject].append((date.fromisoformat(str(details["export_date"])[:10]),
                                       Decimal(str(details["from"])),
                                       Decimal(str(details["to"]))))
            except (KeyError, TypeError, ValueError, ArithmeticError):
                continue  # not a shape this code wrote: leave it to the unexplained rest
    for rows in found.values():
        rows.sort(key=lambda r: r[0])  # stable: same-day changes stay in log order
    return found


def _plan_state(plan: PaymentPlan, invoices: list[model.Invoice], today: date) -> PlanState:
    """Settled invoices of the plan count as paid; the open ones owe their open amount."""
    covered = set(plan.invoice_numbers)
    open_now = sum((i.open_amount for i in invoices if i.number in covered), Decimal(0))
    instalments = tuple(Instalment(date.fromisoformat(i["due"]), Decimal(i["amount"]))
                        for i in plan.instalments)
    return plan_state(instalments, plan.total, open_now, today, plan.grace_days)
