"""Queue the dossiers that exhausted the amicable steps, with their statement of claim.

Before a dossier enters the queue its invoices pass the readiness check
(`domain/dossier.py`): no open dispute, not prescribed, the formal notice's
proof on file, amounts confirmed by the newest export, the debtor's identity
complete. What fails is kept on the "not ready" list with its reasons and
looked at again every day, never silently dropped.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import lock
from recouvrement.adapters.db.models import (
    Debtor,
    ImportBatch,
    Invoice,
    LitigationDossier,
    LitigationHold,
    Reminder,
    ReminderItem,
)
from recouvrement.queries.deliveries import Proof, proofs_of
from recouvrement.domain.courts import debtor_trader_status, filing
from recouvrement.domain.dossier import (
    Candidate,
    DossierOfDebtor,
    Identity,
    Readiness,
    check_readiness,
    claim_elsewhere,
    dossier_to_join,
    statement_totals,
)
from recouvrement.domain.ladder import due_for_litigation, litigation_candidates, to_declare
from recouvrement.domain.legal import (
    earliest_limitation_note,
    fee_lost_to_proceedings,
    fixed_recovery_fee,
    invoice_claim,
    recommend_procedure,
)
from recouvrement.domain.model import Invoice as DomainInvoice
from recouvrement.domain.model import Procedure, to_cents
from recouvrement.domain.policy import Policy
from recouvrement.adapters.ledger import DebtorState, debtor_ids_with_open_invoices, load_states
from recouvrement.services.lifecycle import reconcile_payments
from recouvrement.adapters.shards import Shard, narrow


def escalate(session: Session, *, today: date, policy: Policy, actor: str,
             creditor_is_trader: bool = True, account: str | None = None,
             shard: Shard | None = None) -> list[dict[str, Any]]:
    """Open a dossier for each debtor with invoices past the formal notice's deadline.

    A debtor in collective proceedings gets one for its overdue invoices at
    once: no reminder may be sent, the claim must be declared instead. An
    invoice of a debtor whose dossier of the same kind is still queued (never
    exported) joins it: one claim, one dossier, its route chosen on the whole.
    Payments that reached dossiers already queued are recorded first.
    """
    lock(session, "litigation")
    reconcile_payments(session, today=today, actor=actor, account=account, shard=shard)
    newest_export = newest_export_date(session)
    holds = {h.debtor_id: h for h in session.scalars(select(LitigationHold))}  # a short list
    queued, events, visited = [], [], set()
    for state in load_states(session, debtor_ids_with_open_invoices(session, account, shard),
                             today):
        visited.add(state.id)
        debtor = state.debtor
        own = policy.for_debtor(debtor, state.open_amount)
        candidates = litigation_candidates(debtor, state.invoices, today=today, policy=own)
        if not candidates:
            if state.id in holds:
                events += _set_hold(session, state, holds.get(state.id), None, today)
            continue
        check = check_readiness(_identity(session, state), _evidence(session, state, candidates,
                                                                     own),
                                today=today, newest_export=newest_export)
        # The ladder's rule stays the gate: the check only ever holds more back.
        ready = [i for i in candidates if i.number in check.ready and (
            to_declare(i, debtor)
            or due_for_litigation(i, today=today, policy=own, debtor=debtor))]
        events += _set_hold(session, state, holds.get(state.id), check, today)
        # In collective proceedings the claims to declare and those born after the
        # opening (chased like any other, L622-17 I) go different ways: two dossiers.
        groups = [[i for i in ready if to_declare(i, debtor)],
                  [i for i in ready if not to_declare(i, debtor)]]
        dossiers = _dossiers_of(session, state.id)
        for group in (g for g in groups if g):
            summary, event = _queue(session, state, group, dossiers, own, check, today=today,
                                    creditor_is_trader=creditor_is_trader)
            queued.append(summary)
            events.append(event)
    events += _lift_stale_holds(session, visited, account, shard)
    record(session, events, actor)
    return queued


def _queue(session: Session, state: DebtorState, group: list[DomainInvoice],
           dossiers: list[DossierOfDebtor], policy: Policy, check: Readiness, *, today: date,
           creditor_is_trader: bool) -> tuple[dict[str, Any], Event]:
    """Queue the invoices in a new dossier, or in the debtor's queued one of the same kind."""
    debtor = state.debtor
    declared = to_declare(group[0], debtor)
    joined = dossier_to_join(dossiers, declared=declared)
    if joined is not None:  # one claim, one dossier: the invoices join the queued one
        dossier = session.get(LitigationDossier, joined)
        before = dossier_json(dossier, debtor.account)
    else:
        dossier, before = LitigationDossier(
            id=str(uuid.uuid4()), debtor_id=state.id, status="queued", queued_on=today,
            invoice_numbers=[], statement=[], created_at=datetime.now(timezone.utc)), None
    _fill_dossier(session, dossier, state, group, policy, check, today=today,
                  creditor_is_trader=creditor_is_trader,
                  elsewhere=claim_elsewhere(dossiers, declared=declared, besides=dossier.id))
    summary = dossier_json(dossier, debtor.account)
    details = {"reasons": list(dossier.reasons), "filing": dossier.filing,
               "urgent": {n: d.isoformat() for n, d in check.urgent.items()
                          if n in dossier.invoice_numbers}}
    if before is None:
        return summary, Event("litigation.queued", debtor.account, dossier.id,
                              {**summary, **details})
    return summary, Event("litigation.joined", debtor.account, dossier.id,
                          {"added": [i.number for i in group], "before": before,
                           "after": summary, **details})


def count_not_ready(session: Session, *, account: str | None = None,
                    shard: Shard | None = None) -> int:
    """Debtors past the formal notice's deadline whose dossier is not ready yet."""
    return session.scalar(narrow(select(func.count(LitigationHold.debtor_id))
                                 .join(Debtor, Debtor.id == LitigationHold.debtor_id),
                                 account, shard))


def newest_export_date(session: Session) -> date | None:
    """The date of the newest snapshot of the open items (any format but the customers)."""
    return session.scalar(select(func.max(ImportBatch.export_date))
                          .where(ImportBatch.file_kind != "customers"))


def _identity(session: Session, state: DebtorState) -> Identity:
    row = session.get(Debtor, state.id)
    return Identity(name=row.name, kind=state.debtor.kind, siren=row.siren, address=row.address,
                    postcode=row.postcode, city=row.city,
                    collective_proceedings=state.debtor.in_collective_proceedings)


def _evidence(session: Session, state: DebtorState, invoices: list[DomainInvoice],
              policy: Policy) -> list[Candidate]:
    ids = [state.invoice_ids[i.number] for i in invoices]
    proofs: dict[int, str] = {}
    notices = session.execute(
        select(ReminderItem.invoice_id, Reminder.id)
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .where(ReminderItem.invoice_id.in_(ids), ReminderItem.level == policy.formal_notice_level,
               Reminder.status == "sent").order_by(Reminder.sent_on)).all()
    went = proofs_of(session, {reminder_id for _, reminder_id in notices})
    for invoice_id, reminder_id in notices:
        proof = notice_proof(went.get(reminder_id, Proof()))
        if proof:
            proofs[invoice_id] = proof
    seen = dict(session.execute(select(Invoice.id, Invoice.last_seen_on)
                                .where(Invoice.id.in_(ids))).all())
    return [Candidate(number=i.number, issue_date=i.issue_date, due_date=i.due_date,
                      declared=to_declare(i, state.debtor),
                      limitation_start=i.limitation_start,
                      limitation_earliest=i.limitation_earliest,
                      disputed=i.disputed, paused=i.paused,
                      notice_proof=proofs.get(state.invoice_ids[i.number]),
                      last_seen_on=seen.get(state.invoice_ids[i.number])) for i in invoices]


def notice_proof(proof: Proof) -> str | None:
    """What proves a reminder went out: its e-mail's Message-ID, its registered letter, or both."""
    proofs = []
    if proof.message_id:
        proofs.append(f"Message-ID {proof.message_id}")
    if proof.letter_file:
        proofs.append(f"registered letter {Path(proof.letter_file).name}")
    return "; ".join(proofs) or None


def statement_line(invoice: DomainInvoice, debtor, *, today: date, notice: date | None,
                   contractual_rate, limitation_ends_on: date | None) -> dict[str, Any]:
    """One invoice of the statement of claim: interest per period, payments imputed."""
    # The opening judgment stops interest from running on the claims born before
    # it (C. com. L622-28): the declared claim counts it up to that day.
    until = (min(today, debtor.collective_proceedings_since) if to_declare(invoice, debtor)
             else today)
    claim = invoice_claim(invoice, debtor, until, formal_notice_on=notice,
                          contractual_rate=contractual_rate)
    principal = to_cents(claim.remaining_principal)
    return {
        "invoice": invoice.number, "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(), "amount": f"{invoice.amount:.2f}",
        "principal": f"{principal:.2f}", "interest": f"{claim.total:.2f}",
        # What the accounting ledger shows open: payments after queueing are read against it.
        "ledger_open_amount": f"{invoice.open_amount:.2f}",
        "interest_until": until.isoformat(),
        "formal_notice_on": notice.isoformat() if notice else None,
        # Kept so that a later export computes the interest again at the same rate.
        "contractual_rate": str(contractual_rate) if contractual_rate is not None else None,
        "limitation_ends_on": limitation_ends_on.isoformat() if limitation_ends_on else None,
        "periods": [{"start": p.start.isoformat(), "end": p.end.isoformat(),
                     "days": p.days, "year_days": p.year_days, "rate": str(p.rate),
                     "principal": f"{to_cents(claim.principal if p.base is None else p.base):.2f}",
                     "amount": f"{to_cents(p.amount):.2f}", "provisional": p.provisional}
                    for p in claim.periods],
        "imputations": [{"on": i.on.isoformat(), "payment": f"{to_cents(i.amount):.2f}",
                         "interest_due": f"{i.interest_due:.2f}",
                         "to_interest": f"{i.to_interest:.2f}",
                         "to_principal": f"{to_cents(i.to_principal):.2f}",
                         "principal_after": f"{to_cents(i.principal_after):.2f}",
                         "date_known": i.date_known}
                        for i in claim.imputations],
        "notes": list(claim.notes)}


def _dossiers_of(session: Session, debtor_id: int) -> list[DossierOfDebtor]:
    rows = session.scalars(select(LitigationDossier)
                           .where(LitigationDossier.debtor_id == debtor_id)
                           .order_by(LitigationDossier.queued_on, LitigationDossier.created_at))
    return [DossierOfDebtor(d.id, d.status, d.exported_on,
                            d.procedure == Procedure.DECLARATION_DE_CREANCE.value,
                            d.principal + d.interest) for d in rows]


def _fill_dossier(session: Session, dossier: LitigationDossier, state: DebtorState,
                  ready: list[DomainInvoice], policy: Policy, check: Readiness, *, today: date,
                  creditor_is_trader: bool,
                  elsewhere: tuple[Decimal, tuple[str, ...]]) -> None:
    """Add ``ready`` to the dossier's statement; totals, route and court on the whole claim.

    The lines already there keep the figures of the day they were queued (the
    payments seen since are recorded beside them, never counted twice).
    """
    debtor = state.debtor
    statement = list(dossier.statement) + [
        statement_line(invoice, debtor, today=today,
                       notice=invoice.sent_levels.get(policy.formal_notice_level),
                       contractual_rate=policy.contractual_rate_for(debtor),
                       limitation_ends_on=check.urgent.get(invoice.number))
        for invoice in ready]
    principal, interest = (to_cents(v) for v in statement_totals(statement))
    since = debtor.collective_proceedings_since
    # L441-10 II: the 40 EUR is lost only where the opening prevented payment at the due date.
    fees = fixed_recovery_fee(debtor.kind, sum(
        1 for line in statement if not fee_lost_to_proceedings(
            date.fromisoformat(line["due_date"]), date.fromisoformat(line["issue_date"]), since)),
        collective_proceedings=False)
    urgent_on = {line["invoice"]: date.fromisoformat(line["limitation_ends_on"])
                 for line in statement if line.get("limitation_ends_on")}
    others, other_ids = elsewhere
    declared = any(to_declare(i, debtor) for i in ready)
    procedure, reasons = recommend_procedure(
        debtor, principal + interest + others, creditor_is_trader=creditor_is_trader,
        prescribed_after=min(urgent_on.values(), default=None),
        born_after_opening=not declared, on=today)
    if other_ids:
        reasons = (f"The debtor's other dossier(s) {', '.join(i[:8] for i in other_ids)}, "
                   f"still open, claim {to_cents(others)} EUR in principal and interest: "
                   f"with this one's {principal + interest} EUR the route is chosen on the "
                   "whole claim, never on its parts (CPCE R125-1).",) + reasons
    by_number = {i.number: i for i in state.invoices}
    urgent = []
    for number in sorted(urgent_on):
        urgent.append(f"URGENT: {number} is prescribed after {urgent_on[number].isoformat()}: "
                      "file before that day")
        invoice = by_number.get(number)
        earlier = invoice and earliest_limitation_note(
            debtor.kind, invoice.limitation_start or invoice.due_date,
            invoice.limitation_earliest, today)
        if earlier:
            urgent[-1] += f" ({earlier})"
    where = filing(procedure.value, debtor.kind,
                   debtor_trader_status(debtor.kind, debtor.legal_form, debtor.trader),
                   creditor_is_trader, debtor.postcode, on=today)
    dossier.invoice_numbers = [line["invoice"] for line in statement]
    dossier.statement = statement
    dossier.principal, dossier.interest, dossier.fixed_fees = principal, interest, fees
    dossier.total = principal + interest + fees
    dossier.procedure, dossier.reasons = procedure.value, urgent + list(reasons)
    dossier.filing = where.as_dict()
    session.add(dossier)
    session.flush()
    session.execute(update(Invoice).where(Invoice.id.in_(
        [state.invoice_ids[i.number] for i in ready])).values(dossier_id=dossier.id))


def _set_hold(session: Session, state: DebtorState, hold: LitigationHold | None,
              check: Readiness | None, today: date) -> list[Event]:
    """Keep the debtor's "not ready" entry in step with today's check; audit each change."""
    if check is None or check.fully_ready:
        if hold is None:
            return []
        session.delete(hold)
        why = "queued" if check is not None else "no invoice past its formal notice deadline"
        return [Event("litigation.hold_lifted", state.debtor.account, details={"why": why})]
    invoices = [{"invoice": n, "reasons": list(r)} for n, r in sorted(check.held.items())]
    reasons = list(check.debtor_reasons)
    if hold is None:
        hold = LitigationHold(debtor_id=state.id, since=today, checked_on=today,
                              invoices=invoices, reasons=reasons)
        session.add(hold)
    else:
        hold.checked_on = today
        if hold.invoices == invoices and hold.reasons == reasons:
            return []
        hold.invoices, hold.reasons = invoices, reasons
    return [Event("litigation.not_ready", state.debtor.account,
                  details={"invoices": invoices, "reasons": reasons})]


def _lift_stale_holds(session: Session, visited: set[int], account: str | None,
                      shard: Shard | None) -> list[Event]:
    """Debtors with nothing open any more leave the "not ready" list."""
    query = narrow(select(LitigationHold, Debtor.account)
                   .join(Debtor, Debtor.id == LitigationHold.debtor_id), account, shard)
    events = []
    for hold, holder in session.execute(query).all():
        if hold.debtor_id not in visited:
            session.delete(hold)
            events.append(Event("litigation.hold_lifted", holder,
                                details={"why": "nothing open any more"}))
    return events


def dossier_json(dossier: LitigationDossier, account: str) -> dict[str, Any]:
    """The dossier as `litigation list --format json` shows it (README, litigation queue)."""
    return {
        "id": dossier.id, "debtor": account, "invoices": list(dossier.invoice_numbers),
        "principal": f"{dossier.principal:.2f}", "interest": f"{dossier.interest:.2f}",
        "fixed_fees": f"{dossier.fixed_fees:.2f}", "total": f"{dossier.total:.2f}",
        "procedure": dossier.procedure, "queued_on": dossier.queued_on.isoformat(),
    }


def list_dossiers(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    query = (select(LitigationDossier, Debtor.account)
             .join(Debtor, Debtor.id == LitigationDossier.debtor_id)
             .order_by(LitigationDossier.queued_on, Debtor.account))
    if status is not None:
        query = query.where(LitigationDossier.status == status)
    return [{**dossier_json(d, account), "status": d.status}
            for d, account in session.execute(query).all()]


def list_not_ready(session: Session) -> list[dict[str, Any]]:
    """Debtors past their formal notice deadline whose dossier is held back, with why."""
    rows = session.execute(select(LitigationHold, Debtor.account)
                           .join(Debtor, Debtor.id == LitigationHold.debtor_id)
                           .order_by(Debtor.account)).all()
    return [{"debtor": account, "since": hold.since.isoformat(),
             "checked_on": hold.checked_on.isoformat(),
             "invoices": [i["invoice"] for i in hold.invoices],
             "reasons": list(hold.reasons) + [f"{i['invoice']}: {r}" for i in hold.invoices
                                              for r in i["reasons"]],
             "held": hold.invoices, "debtor_reasons": hold.reasons}
            for hold, account in rows]

