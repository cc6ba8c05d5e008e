"""Read-outs and small ledger commands behind the CLI."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, current_actor, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import (Debtor, Invoice, LitigationDossier, PaymentPlan, Promise,
                                    Reminder, ReminderItem)
from recouvrement.domain.legal import declaration_deadline
from recouvrement.domain.pauses import Instalment, make_instalments
from recouvrement.services.litigation import count_not_ready


def debtor_rows(session: Session) -> list[dict[str, Any]]:
    """account, name, risk_score, risk_class, open_amount, level (the `debtors` command's columns)."""
    open_amounts = dict(session.execute(
        select(Invoice.debtor_id, func.sum(Invoice.open_amount))
        .where(Invoice.status == "open").group_by(Invoice.debtor_id)).all())
    levels = dict(session.execute(
        select(Invoice.debtor_id, func.max(ReminderItem.level))
        .join(ReminderItem, ReminderItem.invoice_id == Invoice.id)
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .where(Invoice.status == "open", Reminder.status == "sent")
        .group_by(Invoice.debtor_id)).all())
    rows = []
    for d in session.scalars(select(Debtor).order_by(Debtor.account)):
        amount = open_amounts.get(d.id) or Decimal(0)  # SUM keeps the Money type
        rows.append({"account": d.account, "name": d.name, "risk_score": d.risk_score,
                     "risk_class": d.risk_class, "open_amount": f"{amount:.2f}",
                     "level": levels.get(d.id) or 0, "risk_factors": risk_reasons(d.risk_factors)})
    return rows


def risk_reasons(factors: dict[str, Any] | None) -> list[str]:
    """The words that explain a stored score (none before the first scoring)."""
    return list((factors or {}).get("explanation") or [])


def set_dispute(session: Session, number: str, *, reason: str | None) -> str | None:
    """Open (with a reason) or close a dispute; the problem in words, or None."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return f"no invoice {number!r} in the ledger"
    account = session.scalar(select(Debtor.account).where(Debtor.id == invoice.debtor_id))
    opening = reason is not None
    if opening and invoice.status != "open":
        return (f"{number} is {_state(invoice)}: there is nothing to dispute, and no dunning "
                "to pause")
    if invoice.disputed == opening:
        return f"{number} is {'already' if opening else 'not'} disputed"
    invoice.disputed, invoice.dispute_reason = opening, reason
    record(session, [Event(EventKind.DISPUTE_OPENED if opening else EventKind.DISPUTE_CLOSED,
                           account, number, {"reason": reason} if opening else {})],
           current_actor())
    return None


def _state(invoice: Invoice) -> str:
    if invoice.status == "settled":
        return f"settled (on {invoice.settled_on.isoformat()})" if invoice.settled_on else "settled"
    return "a credit, not a debt" if invoice.status == "credit" else invoice.status


def acknowledge(session: Session, number: str, on: date, *, today: date) -> str | None:
    """The debtor acknowledged this debt on `on`: its limitation period restarts (C. civ. 2240)."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
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
    account = session.scalar(select(Debtor.account).where(Debtor.id == invoice.debtor_id))
    record(session, [Event(EventKind.DEBT_ACKNOWLEDGED, account, number, {"on": on})],
           current_actor())
    return None


def _debtor(session: Session, account: str) -> Debtor | None:
    return session.scalar(select(Debtor).where(Debtor.account == account))


def case_twins(session: Session, account: str) -> list[str]:
    """Accounts of the ledger that differ from `account` only by case."""
    return sorted(a for a in session.scalars(select(Debtor.account).where(
        func.lower(Debtor.account) == account.lower())) if a != account)


def unknown_debtor(session: Session, account: str) -> str:
    twins = case_twins(session, account)
    hint = (f"; did you mean {' or '.join(twins)}? (accounts are matched exactly, case "
            "included)") if twins else ""
    return f"no debtor {account!r} in the ledger{hint}"


def add_promise(session: Session, account: str, until: date, *, today: date) -> str | None:
    """Record a promise to pay: dunning of the debtor pauses until `until`."""
    debtor = _debtor(session, account)
    if debtor is None:
        return unknown_debtor(session, account)
    if until < today:
        return f"the promised date {until.isoformat()} is already past"
    owed = session.scalar(select(func.count()).select_from(Invoice).where(
        Invoice.debtor_id == debtor.id, Invoice.status == "open", Invoice.open_amount > 0))
    if not owed:
        return f"{account} owes nothing (no open invoice): there is no promise to record"
    actor = current_actor()
    session.add(Promise(debtor_id=debtor.id, until=until, created_at=datetime.now(timezone.utc),
                        created_by=actor))
    record(session, [Event(EventKind.PROMISE_RECORDED, account, details={"until": until})], actor)
    return None


def add_plan(session: Session, account: str, *, instalments: int, first: date, every_days: int,
             grace_days: int) -> tuple[str | None, list[Instalment]]:
    """A payment plan over the debtor's open invoices not in litigation."""
    debtor = _debtor(session, account)
    if debtor is None:
        return unknown_debtor(session, account), []
    if session.scalar(select(PaymentPlan.id).where(PaymentPlan.debtor_id == debtor.id,
                                                   PaymentPlan.status == "active")):
        return f"{account} already has an active payment plan", []
    invoices = list(session.scalars(select(Invoice).where(
        Invoice.debtor_id == debtor.id, Invoice.status == "open", Invoice.dossier_id.is_(None))
        .order_by(Invoice.number)))
    total = sum((i.open_amount for i in invoices), Decimal(0))
    try:
        schedule = list(make_instalments(total, instalments, first, every_days))
    except ValueError as exc:
        return f"{account}: {exc}", []
    actor = current_actor()
    plan = PaymentPlan(
        debtor_id=debtor.id, invoice_numbers=[i.number for i in invoices], total=total,
        instalments=[{"due": i.due.isoformat(), "amount": f"{i.amount:.2f}"} for i in schedule],
        grace_days=grace_days, status="active", created_at=datetime.now(timezone.utc),
        created_by=actor)
    session.add(plan)
    session.flush()
    record(session, [Event(EventKind.PLAN_AGREED, account, f"plan:{plan.id}",
                           {"invoices": plan.invoice_numbers, "total": total,
                            "instalments": plan.instalments, "grace_days": grace_days})], actor)
    return None, schedule


def claims_to_declare(session: Session) -> list[dict[str, Any]]:
    """Debtors in collective proceedings, what they owe and by when to declare it.

    The two months of C. com. R622-24 run from the BODACC publication, which
    follows the opening judgment: the date shown counts from the judgment, the
    earliest the deadline can be.
    """
    rows = session.execute(
        select(Debtor.account, Debtor.name, Debtor.collective_proceedings_since,
               func.sum(Invoice.open_amount))
        .join(Invoice, Invoice.debtor_id == Debtor.id)
        .where(Debtor.collective_proceedings_since.is_not(None), Invoice.status == "open",
               # A claim born after the opening is paid at maturity, not declared
               # (C. com. L622-17 I; see domain.legal.born_after_opening).
               Invoice.issue_date <= Debtor.collective_proceedings_since)
        .group_by(Debtor.account, Debtor.name, Debtor.collective_proceedings_since)
        .order_by(Debtor.collective_proceedings_since)).all()
    return [{"account": account, "name": name, "proceedings_since": since.isoformat(),
             "open_amount": f"{amount:.2f}", "declare_by": declaration_deadline(since).isoformat()}
            for account, name, since, amount in rows]


def ledger_kpis(session: Session, today: date) -> dict[str, Any]:
    """The day's figures a credit manager follows, over the whole ledger."""
    open_ = Invoice.status == "open"
    count, amount, overdue, old, disputed, debtors = session.execute(
        select(func.count(Invoice.id), func.sum(Invoice.open_amount),
               func.sum(Invoice.open_amount).filter(Invoice.due_date < today),
               func.sum(Invoice.open_amount).filter(Invoice.due_date < today - timedelta(days=60)),
               func.sum(Invoice.open_amount).filter(Invoice.disputed.is_(True)),
               func.count(func.distinct(Invoice.debtor_id))).where(open_)).one()
    dossiers, claimed = session.execute(
        select(func.count(LitigationDossier.id), func.sum(LitigationDossier.total))
        .where(LitigationDossier.status != "closed")).one()
    sent, failed, given_up = (session.scalar(select(func.count(Reminder.id)).where(where))
                              for where in (Reminder.sent_on == today, Reminder.status == "failed",
                                            Reminder.status == "needs_attention"))
    zero = Decimal(0)
    amount, overdue = amount or zero, overdue or zero
    return {
        "as_of": today.isoformat(), "open_invoices": count, "debtors": debtors,
        "open_amount": amount, "overdue_amount": overdue,
        "overdue_share": (overdue / amount * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if amount else zero,
        "overdue_60_amount": old or zero, "disputed_amount": disputed or zero,
        "litigation_dossiers": dossiers, "litigation_amount": claimed or zero,
        "not_ready": count_not_ready(session),
        "sent_today": sent, "failed_pending": failed, "given_up": given_up,
    }
