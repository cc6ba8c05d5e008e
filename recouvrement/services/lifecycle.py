"""A dossier's life once queued: exported, handed to a bailiff or a lawyer, closed.

Every change is made by a command and written to the audit log with who made
it. Payments that the exports show after a dossier was queued are recorded
against it; when nothing of its principal is left, it closes as paid.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import Debtor, Invoice, LitigationDossier, LitigationPayment
from recouvrement.domain.dossier import (
    CLOSED,
    TransitionError,
    after_close,
    after_export,
    after_handover,
)
from recouvrement.adapters.shards import Shard, narrow


class DossierNotFound(LookupError):
    """No dossier, or more than one, answers to the id given."""


def find_dossier(session: Session, ref: str) -> LitigationDossier:
    """The dossier with this id, or the only one whose id starts with it (8 characters or more).

    The prefix is matched literally: `%` and `_` in it are characters, not wildcards."""
    ref = ref.strip()
    dossier = session.get(LitigationDossier, ref)
    if dossier is not None:
        return dossier
    if len(ref) >= 8:
        matches = list(session.scalars(select(LitigationDossier)
                                       .where(LitigationDossier.id.startswith(ref, autoescape=True))
                                       .limit(2)))
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise DossierNotFound(f"more than one dossier id starts with {ref!r}")
    raise DossierNotFound(f"no dossier {ref!r} (see `recouvrement litigation list`)")


def account_of(session: Session, dossier: LitigationDossier) -> str:
    return session.scalar(select(Debtor.account).where(Debtor.id == dossier.debtor_id))


def principal_by_invoice(dossier: LitigationDossier) -> dict[str, Decimal]:
    """What the ledger showed open on each invoice when queued: later exports are read
    against it (the claim's principal can be more, payments going to interest first)."""
    return {line["invoice"]: Decimal(line.get("ledger_open_amount", line["principal"]))
            for line in dossier.statement}


def payments_of(session: Session, dossier_id: str) -> list[LitigationPayment]:
    return list(session.scalars(select(LitigationPayment)
                                .where(LitigationPayment.dossier_id == dossier_id)
                                .order_by(LitigationPayment.received_on, LitigationPayment.id)))


def balance(session: Session, dossier: LitigationDossier) -> Decimal:
    """Principal still owed: what was queued less the payments seen since."""
    paid = session.scalar(select(func.sum(LitigationPayment.amount))
                          .where(LitigationPayment.dossier_id == dossier.id)) or Decimal(0)
    return sum(principal_by_invoice(dossier).values(), Decimal(0)) - paid


def reconcile_payments(session: Session, *, today: date, actor: str, account: str | None = None,
                       dossier_id: str | None = None,
                       shard: Shard | None = None) -> list[dict[str, Any]]:
    """Record what the ledger shows paid on open dossiers since they were queued.

    The ledger knows invoices, not late interest or fees: a dossier whose
    principal is all paid closes as `paid`, and the closing entry says how
    much interest and fees were claimed and not recovered, so the credit
    manager can reopen the question by hand.
    """
    query = (select(LitigationDossier, Debtor.account)
             .join(Debtor, Debtor.id == LitigationDossier.debtor_id)
             .where(LitigationDossier.status != CLOSED))
    query = narrow(query, account, shard)
    if dossier_id is not None:
        query = query.where(LitigationDossier.id == dossier_id)
    events = _reopen_closed_by_absence(session, today, account, dossier_id, shard)
    dossiers = session.execute(query).all()
    recorded, invoices = _payments_and_invoices(session, [d.id for d, _ in dossiers])
    found = []
    for dossier, holder in dossiers:
        principal = principal_by_invoice(dossier)
        paid = sum((recorded.get((dossier.id, n), Decimal(0)) for n in principal), Decimal(0))
        for number, owed in principal.items():
            invoice = invoices.get(number)
            if invoice is None:
                continue
            open_now = invoice.open_amount if invoice.status == "open" else Decimal(0)
            amount = owed - recorded.get((dossier.id, number), Decimal(0)) - open_now
            if amount == 0:
                continue
            received_on = (invoice.settled_on if invoice.status != "open" and invoice.settled_on
                           else invoice.last_seen_on or today)
            session.add(LitigationPayment(dossier_id=dossier.id, invoice_number=number,
                                          received_on=received_on, amount=amount,
                                          recorded_at=datetime.now(timezone.utc)))
            paid += amount
            row = {"dossier": dossier.id, "debtor": holder, "invoice": number,
                   "amount": f"{amount:.2f}", "received_on": received_on.isoformat(),
                   "balance": f"{sum(principal.values(), Decimal(0)) - paid:.2f}"}
            found.append(row)
            events.append(Event(EventKind.PAYMENT_RECEIVED if amount > 0
                                else EventKind.PAYMENT_REVERSED, holder, dossier.id, row))
        if sum(principal.values(), Decimal(0)) - paid <= 0:
            # What the claim counted beyond the ledger's principal: interest, fees, and the
            # part of earlier payments imputed to interest (C. civ. 1343-1).
            unrecovered = dossier.total - sum(principal.values(), Decimal(0))
            absent = sorted(n for n in principal if invoices.get(n) is not None
                            and invoices[n].status == "settled"
                            and invoices[n].settled_how == "absent")
            before = dossier.status
            events.append(_change(dossier, holder, after_close(dossier.status, "paid"), today,
                                  outcome="paid", why="the exports show the principal paid in full",
                                  interest_and_fees_not_recovered=f"{unrecovered:.2f}",
                                  settled_by_absence=absent or None))
            dossier.outcome, dossier.closed_on = "paid", today
            # Missing from an export is not proof of payment: back if the invoice comes back.
            dossier.absence_closed_from = before if absent else None
    session.flush()
    record(session, events, actor)
    return found


def _reopen_closed_by_absence(session: Session, today: date, account: str | None,
                              dossier_id: str | None, shard: Shard | None) -> list[Event]:
    """Reopen the dossiers closed as paid by an invoice's absence whose invoice is open again."""
    query = (select(LitigationDossier, Debtor.account)
             .join(Debtor, Debtor.id == LitigationDossier.debtor_id)
             .where(LitigationDossier.status == CLOSED,
                    LitigationDossier.absence_closed_from.is_not(None)))
    query = narrow(query, account, shard)
    if dossier_id is not None:
        query = query.where(LitigationDossier.id == dossier_id)
    events = []
    for dossier, holder in session.execute(query).all():
        back = sorted(i.number for i in session.scalars(select(Invoice).where(
            Invoice.dossier_id == dossier.id, Invoice.status == "open", Invoice.open_amount > 0)))
        if not back:
            continue
        status = dossier.absence_closed_from
        events.append(_change(dossier, holder, status, today, event=EventKind.DOSSIER_REOPENED,
                              why="closed as paid when its invoices went missing from an "
                                  "export; open again in a later one", invoices=back))
        dossier.outcome, dossier.closed_on, dossier.absence_closed_from = None, None, None
    session.flush()
    return events


def _payments_and_invoices(session: Session, dossier_ids: list[str]):
    """Payments recorded per (dossier, invoice), and the dossiers' invoices, in a few queries."""
    recorded: dict[tuple[str, str], Decimal] = {}
    invoices: dict[str, Invoice] = {}
    for start in range(0, len(dossier_ids), 1000):
        chunk = dossier_ids[start:start + 1000]
        for dossier_id, number, amount in session.execute(
                select(LitigationPayment.dossier_id, LitigationPayment.invoice_number,
                       func.sum(LitigationPayment.amount))
                .where(LitigationPayment.dossier_id.in_(chunk))
                .group_by(LitigationPayment.dossier_id, LitigationPayment.invoice_number)):
            recorded[(dossier_id, number)] = amount
        invoices.update((i.number, i) for i in session.scalars(
            select(Invoice).where(Invoice.dossier_id.in_(chunk))))
    return recorded, invoices


def mark_exported(session: Session, dossier: LitigationDossier, *, today: date, actor: str,
                  out: str, sha256sums: str) -> None:
    """Recorded with the digest of the export's SHA256SUMS: what was handed over, provably."""
    holder = account_of(session, dossier)
    event = _change(dossier, holder, after_export(dossier.status), today, out=out,
                    sha256sums=sha256sums, event=EventKind.EXPORTED)
    dossier.exported_on = today
    record(session, [event], actor)


def hand_over(session: Session, dossier: LitigationDossier, *, to: str, name: str,
              reference: str | None, today: date, actor: str) -> None:
    """The dossier goes to a bailiff (commissaire de justice) or a lawyer."""
    if not name.strip():
        raise TransitionError("name the bailiff or lawyer the dossier goes to")
    holder = account_of(session, dossier)
    event = _change(dossier, holder, after_handover(dossier.status, to), today, handler=name,
                    reference=reference)
    dossier.handler, dossier.handler_reference = name.strip(), reference
    record(session, [event], actor)


def close_dossier(session: Session, dossier: LitigationDossier, *, outcome: str, note: str | None,
                  today: date, actor: str) -> None:
    holder = account_of(session, dossier)
    event = _change(dossier, holder, after_close(dossier.status, outcome), today, outcome=outcome,
                    note=note, balance=f"{balance(session, dossier):.2f}")
    dossier.outcome, dossier.closed_on = outcome, today
    record(session, [event], actor)


def _change(dossier: LitigationDossier, holder: str, status: str, today: date, *,
            event: EventKind = EventKind.STATUS_CHANGED, **details: Any) -> Event:
    before = dossier.status
    dossier.status = status
    return Event(event, holder, dossier.id,
                 {"from": before, "to": status, "on": today.isoformat(),
                  **{k: v for k, v in details.items() if v is not None}})
