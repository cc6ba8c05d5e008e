"""Remittances: the funds the agency paid back to a creditor (CPCE R124-6), less its fee
(R124-3: the basis the mandate states).

`make_remittance` takes every payment of the creditor received in the period and not
remitted yet, computes the fee and the net by domain/agency.py `remittance`, and writes
a statement (PDF and CSV) listing every payment. The remittance is due one month after
the earliest encashment it pays back, unless the mandate sets another term. It stays
`open` until `mark_paid` records the transfer; one not paid by its due date is overdue
(a warning of the daily run and of `remittance list`).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import Database, lock
from recouvrement.adapters.db.agency_models import AgencyPayment, AgencyRemittance
from recouvrement.domain.agency import LAW_MONTH_DAYS, Received, overdue, remittance
from recouvrement.domain.events import EventKind
from recouvrement.adapters.mail.render import format_amount, format_date
from recouvrement.adapters.private_files import write_private
from recouvrement.ingest.quarantine import neutralise

from recouvrement.services.agency.payments import METHODS, Agency, _render, _templates, party


class RemittanceRefused(ValueError):
    """A remittance that cannot be made or marked paid: why (nothing was changed)."""


def _eur(value: Decimal) -> str:
    return format_amount(value, "EUR", "fr")


def fee_basis(mandate) -> dict[str, Any]:
    return {"percent": f"{Decimal(mandate.fee_percent):.2f}",
            "minimum": None if mandate.fee_minimum is None else f"{mandate.fee_minimum:.2f}",
            "remit_within_days": mandate.remit_within_days, "mandate": mandate.reference}


def _basis_words(basis: dict[str, Any]) -> str:
    percent = basis["percent"].rstrip("0").rstrip(".").replace(".", ",")
    words = f"{percent} % des sommes encaissées"
    if basis["minimum"]:
        words += f", au minimum {_eur(Decimal(basis['minimum']))} par reversement"
    return words


def _term_words(days: int | None) -> str:
    if days is None or days == LAW_MONTH_DAYS:
        return "un mois après l'encaissement le plus ancien"
    return f"{days} jours après l'encaissement le plus ancien, comme convenu au mandat"


def make_remittance(agency_db: Database, creditor, agency: Agency, *, period_from: date,
                    period_to: date, today: date, actor: str, renderer) -> dict[str, Any]:
    """Make the statement of what the creditor is owed for the period; refuse an empty one."""
    if period_from > period_to:
        raise RemittanceRefused(f"the period {period_from} .. {period_to} ends before it starts")
    if period_to > today:
        raise RemittanceRefused(f"the period ends on {period_to.isoformat()}, later than today "
                                f"({today.isoformat()}): make it once the period is over")
    mandate = creditor.mandate
    with agency_db.session() as session:
        lock(session, "agency-remittances")
        rows = list(session.scalars(select(AgencyPayment).where(
            AgencyPayment.creditor == creditor.code, AgencyPayment.remittance_id.is_(None),
            AgencyPayment.received_on >= period_from, AgencyPayment.received_on <= period_to)
            .order_by(AgencyPayment.received_on, AgencyPayment.id)))
        if not rows:
            raise RemittanceRefused(
                f"creditor {creditor.code}: no payment received from {period_from.isoformat()} "
                f"to {period_to.isoformat()} that is not remitted yet: nothing to remit")
        # What a payment brought beyond what its invoices owed is the debtor's (to refund or
        # to impute), not the creditor's: it stays on the trust account, and earns no fee.
        computed = remittance([Received(r.receipt_number, r.received_on,
                                        r.amount - r.unallocated) for r in rows],
                              percent=Decimal(mandate.fee_percent),
                              minimum=mandate.fee_minimum,
                              within_days=mandate.remit_within_days)
        year = today.year
        seq = (session.scalar(select(func.max(AgencyRemittance.seq))
                              .where(AgencyRemittance.year == year)) or 0) + 1
        row = AgencyRemittance(
            number=f"R{year}-{seq:04d}", year=year, seq=seq, creditor=creditor.code,
            period_from=period_from, period_to=period_to, collected=computed.collected,
            fee=computed.fee, net=computed.net, fee_basis=fee_basis(mandate),
            due_on=computed.due_on, made_on=today, made_at=datetime.now(timezone.utc),
            made_by=actor, status="open")
        session.add(row)
        session.flush()
        for payment in rows:
            payment.remittance_id = row.id
        folder = agency.folder(creditor.code, "remittances")
        pdf, table = folder / f"{row.number}.pdf", folder / f"{row.number}.csv"
        write_private(table, statement_csv(row, rows), encoding="utf-8-sig")
        write_private(pdf, renderer.render(statement_html(agency, creditor, row, rows),
                                           base_url=str(_templates())))
        row.statement_file, row.csv_file = str(pdf), str(table)
        record(session, [Event(EventKind.AGENCY_REMITTANCE_MADE, None, row.number,
                               {"creditor": creditor.code, "collected": row.collected,
                                "fee": row.fee, "net": row.net, "due_on": row.due_on,
                                "receipts": [r.receipt_number for r in rows]})], actor)
        return remittance_row(row, today)


def mark_paid(agency_db: Database, number: str, *, paid_on: date, reference: str, today: date,
              actor: str, creditor: str | None = None) -> dict[str, Any]:
    if paid_on > today:
        raise RemittanceRefused(f"--on {paid_on.isoformat()} is later than today")
    if not reference.strip():
        raise RemittanceRefused("--reference: the transfer's reference is required")
    with agency_db.session() as session:
        row = find(session, number, creditor)
        if row.status == "paid":
            raise RemittanceRefused(f"remittance {row.number} is already paid "
                                    f"({row.paid_on.isoformat()}, {row.paid_reference})")
        if paid_on < row.made_on:
            raise RemittanceRefused(f"--on {paid_on.isoformat()} is before the remittance was "
                                    f"made ({row.made_on.isoformat()})")
        row.status, row.paid_on, row.paid_reference = "paid", paid_on, reference.strip()
        row.paid_at, row.paid_by = datetime.now(timezone.utc), actor
        record(session, [Event(EventKind.AGENCY_REMITTANCE_PAID, None, row.number,
                               {"creditor": row.creditor, "net": row.net, "fee": row.fee,
                                "paid_on": paid_on, "reference": row.paid_reference,
                                "late": paid_on > row.due_on})], actor)
        return remittance_row(row, today)


def find(session: Session, number: str, creditor: str | None = None) -> AgencyRemittance:
    # By its number only (R2026-0001): a bare id mistyped would name another creditor's.
    row = session.scalar(select(AgencyRemittance).where(
        AgencyRemittance.number == number.strip().upper()))
    if row is None or (creditor and row.creditor != creditor):
        raise RemittanceRefused(f"no remittance {number!r}"
                                + (f" for creditor {creditor}" if creditor else ""))
    return row


def remittance_row(row: AgencyRemittance, today: date) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "creditor": row.creditor,
            "period_from": row.period_from.isoformat(), "period_to": row.period_to.isoformat(),
            "collected": f"{row.collected:.2f}", "fee": f"{row.fee:.2f}",
            "net": f"{row.net:.2f}", "due_on": row.due_on.isoformat(), "status": row.status,
            "paid_on": row.paid_on.isoformat() if row.paid_on else None,
            "paid_reference": row.paid_reference,
            "overdue": overdue(row.due_on, row.paid_on, today),
            "late": bool(row.paid_on and row.paid_on > row.due_on),
            "statement": row.statement_file, "csv": row.csv_file}


def list_remittances(session: Session, today: date, creditor: str | None = None,
                     ) -> list[dict[str, Any]]:
    query = select(AgencyRemittance).order_by(AgencyRemittance.made_on, AgencyRemittance.id)
    if creditor:
        query = query.where(AgencyRemittance.creditor == creditor)
    return [remittance_row(r, today) for r in session.scalars(query)]


def overdue_remittances(session: Session, today: date, creditor: str | None = None,
                        ) -> list[dict[str, Any]]:
    return [r for r in list_remittances(session, today, creditor) if r["overdue"]]


def unremitted(session: Session, creditor: str, today: date) -> dict[str, Any]:
    """What the agency holds for the creditor and has not put on a statement yet, and by
    when the oldest of it must be paid back."""
    rows = list(session.scalars(select(AgencyPayment).where(
        AgencyPayment.creditor == creditor, AgencyPayment.remittance_id.is_(None))
        .order_by(AgencyPayment.received_on)))
    total = sum((r.amount - r.unallocated for r in rows), Decimal("0.00"))
    return {"payments": len(rows), "amount": f"{total:.2f}",
            "oldest": rows[0].received_on.isoformat() if rows else None}


def statement_csv(row: AgencyRemittance, payments: list[AgencyPayment]) -> str:
    """The statement as a `;` CSV (opens in a French spreadsheet): one line per payment,
    then the totals; free text neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["remittance", "receipt", "received_on", "account", "invoices", "method",
                     "reference", "amount"])
    for p in payments:
        writer.writerow([row.number, p.receipt_number, p.received_on.isoformat(),
                         neutralise(p.account),
                         neutralise(",".join(line["invoice"] for line in p.lines)), p.method,
                         neutralise(p.reference or ""), f"{p.amount - p.unallocated:.2f}"])
    for label, value in (("collected", row.collected), ("fee", row.fee), ("net", row.net)):
        writer.writerow([row.number, label, "", "", "", "", "", f"{value:.2f}"])
    writer.writerow([row.number, "due_on", row.due_on.isoformat(), "", "", "", "", ""])
    return out.getvalue()


def statement_html(agency: Agency, creditor, row: AgencyRemittance,
                   payments: list[AgencyPayment]) -> str:
    mandate = creditor.mandate
    return _render("remittance.html", {
        "agency": {"name": agency.name, "address": ", ".join(agency.address.splitlines())},
        "creditor": party(creditor),
        "mandate": {"reference": mandate.reference,
                    "signed_on": format_date(mandate.signed_on, "fr")},
        "payments": [{"receipt": p.receipt_number, "received_on": format_date(p.received_on, "fr"),
                      "account": p.account,
                      "invoices": ", ".join(line["invoice"] for line in p.lines) or "—",
                      "method": METHODS[p.method],
                      "amount": _eur(p.amount - p.unallocated)} for p in payments],
        "r": {"number": row.number, "period_from": format_date(row.period_from, "fr"),
              "period_to": format_date(row.period_to, "fr"),
              "made_on": format_date(row.made_on, "fr"), "due_on": format_date(row.due_on, "fr"),
              "term": _term_words(mandate.remit_within_days),
              "collected": _eur(row.collected), "fee": _eur(row.fee), "net": _eur(row.net),
              "fee_basis": _basis_words(row.fee_basis),
              "paid_on": format_date(row.paid_on, "fr") if row.paid_on else None,
              "paid_reference": row.paid_reference}})
