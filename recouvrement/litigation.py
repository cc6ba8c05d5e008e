"""Queue the dossiers that exhausted the amicable steps, with their statement of claim."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recouvrement.audit import Event, record
from recouvrement.db import lock
from recouvrement.db.models import Debtor, Invoice, LitigationDossier
from recouvrement.domain.ladder import due_for_litigation
from recouvrement.domain.legal import fixed_recovery_fee, late_interest, recommend_procedure
from recouvrement.domain.model import to_cents
from recouvrement.domain.policy import Policy
from recouvrement.ledger import debtor_ids_with_open_invoices, load_states


def escalate(session: Session, *, today: date, policy: Policy, actor: str,
             creditor_is_trader: bool = True, account: str | None = None) -> list[dict[str, Any]]:
    """Open a dossier for each debtor with invoices past the formal notice's deadline.

    A debtor in collective proceedings gets one for its overdue invoices at
    once: no reminder may be sent, the claim must be declared instead.
    """
    lock(session, "litigation")
    queued, events = [], []
    for state in load_states(session, debtor_ids_with_open_invoices(session, account), today):
        debtor = state.debtor
        own = policy.for_debtor(debtor, sum((i.open_amount for i in state.invoices), Decimal(0)))
        if debtor.in_collective_proceedings:
            ready = [i for i in state.invoices
                     if i.is_open and not i.in_litigation and i.due_date < today]
        else:
            ready = [i for i in state.invoices
                     if due_for_litigation(i, today=today, policy=own, debtor=debtor)]
        if not ready:
            continue
        # The opening judgment stops interest from running (C. com. L622-28): the
        # declared claim counts it up to that day.
        until = min(today, debtor.collective_proceedings_since or today)
        statement, principal, interest = [], Decimal(0), Decimal(0)
        for invoice in ready:
            claim = late_interest(invoice.open_amount, debtor.kind, invoice.due_date, until,
                                  formal_notice_on=invoice.sent_levels.get(own.last_level),
                                  contractual_rate=own.contractual_rate_for(debtor))
            principal += invoice.open_amount
            interest += claim.total
            statement.append({
                "invoice": invoice.number, "issue_date": invoice.issue_date.isoformat(),
                "due_date": invoice.due_date.isoformat(), "principal": f"{invoice.open_amount:.2f}",
                "interest": f"{claim.total:.2f}",
                "formal_notice_on": (invoice.sent_levels.get(own.last_level).isoformat()
                                     if own.last_level in invoice.sent_levels else None),
                "periods": [{"start": p.start.isoformat(), "end": p.end.isoformat(),
                             "days": p.days, "year_days": p.year_days, "rate": str(p.rate),
                             "amount": f"{to_cents(p.amount):.2f}", "provisional": p.provisional}
                            for p in claim.periods],
                "notes": list(claim.notes)})
        fees = fixed_recovery_fee(debtor.kind, len(ready),
                                  collective_proceedings=debtor.in_collective_proceedings)
        total = to_cents(principal) + to_cents(interest) + fees
        procedure, reasons = recommend_procedure(debtor, total, creditor_is_trader=creditor_is_trader)
        dossier = LitigationDossier(
            id=str(uuid.uuid4()), debtor_id=state.id, status="queued", queued_on=today,
            invoice_numbers=[i.number for i in ready], principal=to_cents(principal),
            interest=to_cents(interest), fixed_fees=fees, total=total, procedure=procedure.value,
            reasons=list(reasons), statement=statement, created_at=datetime.now(timezone.utc))
        session.add(dossier)
        session.flush()
        session.execute(update(Invoice).where(Invoice.id.in_(
            [state.invoice_ids[i.number] for i in ready])).values(dossier_id=dossier.id))
        summary = dossier_json(dossier, debtor.account)
        queued.append(summary)
        events.append(Event("litigation.queued", debtor.account, dossier.id,
                            {**summary, "reasons": list(reasons)}))
    record(session, events, actor)
    return queued


def dossier_json(dossier: LitigationDossier, account: str) -> dict[str, Any]:
    """The dossier as `litigation list --format json` shows it (INTERFACE.md)."""
    return {
        "id": dossier.id, "debtor": account, "invoices": list(dossier.invoice_numbers),
        "principal": f"{dossier.principal:.2f}", "interest": f"{dossier.interest:.2f}",
        "fixed_fees": f"{dossier.fixed_fees:.2f}", "total": f"{dossier.total:.2f}",
        "procedure": dossier.procedure, "queued_on": dossier.queued_on.isoformat(),
    }


def list_dossiers(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(LitigationDossier, Debtor.account)
                           .join(Debtor, Debtor.id == LitigationDossier.debtor_id)
                           .order_by(LitigationDossier.queued_on, Debtor.account)).all()
    return [{**dossier_json(d, account), "status": d.status} for d, account in rows]
