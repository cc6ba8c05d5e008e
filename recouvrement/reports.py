"""Read-outs and small ledger commands behind the CLI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.audit import Event, current_actor, record
from recouvrement.db.models import AuditEntry, Debtor, Invoice, Reminder, ReminderItem


def debtor_rows(session: Session) -> list[dict[str, Any]]:
    """account, name, risk_score, risk_class, open_amount, level (INTERFACE.md)."""
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
                     "level": levels.get(d.id) or 0})
    return rows


def set_dispute(session: Session, number: str, *, reason: str | None) -> str | None:
    """Open (with a reason) or close a dispute; the problem in words, or None."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return f"no invoice {number!r} in the ledger"
    account = session.scalar(select(Debtor.account).where(Debtor.id == invoice.debtor_id))
    opening = reason is not None
    if invoice.disputed == opening:
        return f"{number} is {'already' if opening else 'not'} disputed"
    invoice.disputed, invoice.dispute_reason = opening, reason
    record(session, [Event("invoice.dispute_opened" if opening else "invoice.dispute_closed",
                           account, number, {"reason": reason} if opening else {})],
           current_actor())
    return None


def audit_rows(session: Session, *, account: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if account:
        query = query.where(AuditEntry.account == account)
    rows = list(session.scalars(query))[::-1]
    return [{"id": e.id, "at": e.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": e.actor,
             "event": e.event, "account": e.account, "subject": e.subject,
             "details": e.details} for e in rows]
