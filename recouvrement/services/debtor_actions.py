"""What a credit manager records of a debtor after a call, a letter or a meeting: a dispute,
an acknowledgement of the debt, a promise to pay, a payment plan. Each is a unit of work:
checked, written, audited, or refused with the problem in words and nothing changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from recouvrement.adapters.audit import Event, current_actor
from recouvrement.adapters.db.models import Invoice, PaymentPlan, Promise
from recouvrement.adapters.ports import Clock, utc_now
from recouvrement.adapters.unit_of_work import Debtors, UnitOfWork
from recouvrement.domain.events import EventKind
from recouvrement.domain.pauses import Instalment, make_instalments


def set_dispute(uow: UnitOfWork, number: str, *, reason: str | None) -> str | None:
    """Open (with a reason) or close a dispute; the problem in words, or None."""
    invoice = uow.invoices.by_number(number)
    if invoice is None:
        return f"no invoice {number!r} in the ledger"
    account = uow.debtors.get(invoice.debtor_id).account
    opening = reason is not None
    if opening and invoice.status != "open":
        return (f"{number} is {_state(invoice)}: there is nothing to dispute, and no dunning "
                "to pause")
    if invoice.disputed == opening:
        return f"{number} is {'already' if opening else 'not'} disputed"
    invoice.disputed, invoice.dispute_reason = opening, reason
    uow.audit.record([Event(EventKind.DISPUTE_OPENED if opening else EventKind.DISPUTE_CLOSED,
                            account, number, {"reason": reason} if opening else {})],
                     current_actor())
    return None


def _state(invoice: Invoice) -> str:
    if invoice.status == "settled":
        return f"settled (on {invoice.settled_on.isoformat()})" if invoice.settled_on else "settled"
    return "a credit, not a debt" if invoice.status == "credit" else invoice.status


def acknowledge(uow: UnitOfWork, number: str, on: date, *, today: date) -> str | None:
    """The debtor acknowledged this debt on `on`: its limitation period restarts (C. civ. 2240)."""
    invoice = uow.invoices.by_number(number)
    if invoice is None:
        return f"no invoice {number!r} in the ledger"
    if on > today:
        return (f"an acknowledgement cannot be dated later than today: {on.isoformat()} is after "
                f"{today.isoformat()}")
    if invoice.status != "open":
        return f"{number} is {_state(invoice)}: there is no debt left to acknowledge"
    if on < invoice.issue_date:
        return f"{number} was issued on {invoice.issue_date.isoformat()}, after {on.isoformat()}"
    invoice.acknowledged_on = max(on, invoice.acknowledged_on or on)
    account = uow.debtors.get(invoice.debtor_id).account
    uow.audit.record([Event(EventKind.DEBT_ACKNOWLEDGED, account, number, {"on": on})],
                     current_actor())
    return None


def unknown_debtor(debtors: Debtors, account: str) -> str:
    twins = debtors.case_twins(account)
    hint = (f"; did you mean {' or '.join(twins)}? (accounts are matched exactly, case "
            "included)") if twins else ""
    return f"no debtor {account!r} in the ledger{hint}"


def add_promise(uow: UnitOfWork, account: str, until: date, *, today: date,
                clock: Clock = utc_now) -> str | None:
    """Record a promise to pay: dunning of the debtor pauses until `until`."""
    debtor = uow.debtors.by_account(account)
    if debtor is None:
        return unknown_debtor(uow.debtors, account)
    if until < today:
        return f"the promised date {until.isoformat()} is already past"
    if not any(i.status == "open" and i.open_amount > 0 for i in uow.invoices.of_debtor(debtor.id)):
        return f"{account} owes nothing (no open invoice): there is no promise to record"
    actor = current_actor()
    uow.pauses.add_promise(Promise(debtor_id=debtor.id, until=until, created_at=clock(),
                                   created_by=actor))
    uow.audit.record([Event(EventKind.PROMISE_RECORDED, account, details={"until": until})],
                     actor)
    return None


def add_payment_plan(uow: UnitOfWork, account: str, *, instalments: int, first: date, every_days: int,
             grace_days: int, clock: Clock = utc_now) -> tuple[str | None, list[Instalment]]:
    """A payment plan over the debtor's open invoices not in litigation."""
    debtor = uow.debtors.by_account(account)
    if debtor is None:
        return unknown_debtor(uow.debtors, account), []
    if uow.pauses.active_plan(debtor.id) is not None:
        return f"{account} already has an active payment plan", []
    invoices = [i for i in uow.invoices.of_debtor(debtor.id)
                if i.status == "open" and i.dossier_id is None]
    total = sum((i.open_amount for i in invoices), Decimal(0))
    try:
        schedule = list(make_instalments(total, instalments, first, every_days))
    except ValueError as exc:
        return f"{account}: {exc}", []
    actor = current_actor()
    plan = uow.pauses.add_payment_plan(PaymentPlan(
        debtor_id=debtor.id, invoice_numbers=[i.number for i in invoices], total=total,
        instalments=[{"due": i.due.isoformat(), "amount": f"{i.amount:.2f}"} for i in schedule],
        grace_days=grace_days, status="active", created_at=clock(), created_by=actor))
    uow.audit.record([Event(EventKind.PLAN_AGREED, account, f"plan:{plan.id}",
                            {"invoices": plan.invoice_numbers, "total": total,
                             "instalments": plan.instalments, "grace_days": grace_days})], actor)
    return None, schedule
