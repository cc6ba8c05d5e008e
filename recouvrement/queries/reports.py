"""Read-outs behind the CLI: the debtors, the claims to declare, the ledger's figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import (Debtor, Invoice, LitigationDossier, Reminder,
                                             ReminderItem)
from recouvrement.domain.legal import declaration_deadline
from recouvrement.queries.litigation_queue import count_not_ready


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
