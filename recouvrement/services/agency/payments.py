"""Payments the agency receives for a creditor, and their receipts (CPCE R124-6).

A payment is recorded in the agency's database with its receipt number (Q2026-000001:
sequential per agency and year, given under a lock in the transaction that records it,
so there is no gap and no twin). Then, in the creditor's ledger, one audit entry per
invoice it pays and a hold (`agency_holds`) that takes it off what reminders chase
until an export of the creditor shows the invoice's open amount down by as much
(domain/agency.py `chased_open`). The ledger part is idempotent and done again by
`sync_ledger` if the command died between the two databases.

The same bank reference (per payment method) is refused twice: a statement read again
or a payment typed twice records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import Database, lock
from recouvrement.adapters.db.agency_models import AgencyHold, AgencyMark, AgencyPayment
from recouvrement.adapters.db.models import Debtor, Invoice, PaymentPlan
from recouvrement.domain.agency import (
    Chased,
    Held,
    ImputationError,
    amount_in_words,
    booked,
    chased_open,
    impute,
)
from recouvrement.domain.events import EventKind
from recouvrement.adapters.mail.render import format_amount, format_date
from recouvrement.adapters.private_files import private_dir, write_private

METHODS = {"transfer": "virement", "cheque": "chèque", "card": "carte bancaire",
           "cash": "espèces", "direct-debit": "prélèvement"}


class PaymentRefused(ValueError):
    """A payment that cannot be recorded: why, in one line (nothing was changed)."""


@dataclass(frozen=True)
class PaymentInput:
    account: str
    amount: Decimal
    received_on: date
    method: str = "transfer"
    reference: str | None = None
    invoices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Agency:
    """Who issues the receipts and statements (the agency's settings)."""

    name: str
    address: str
    sender: str
    home: Path

    @classmethod
    def from_settings(cls, settings) -> "Agency":
        return cls(settings.agency_name or settings.creditor_name or "Agence de recouvrement",
                   settings.agency_address or settings.creditor_address or "",
                   settings.sender, settings.home)

    def folder(self, creditor: str, what: str) -> Path:
        return private_dir(self.home / "agency" / creditor / what)


def _eur(value: Decimal) -> str:
    return format_amount(value, "EUR", "fr")


# --- what the ledger chases ------------------------------------------------------------------

def chased_invoices(ledger: Session, account: str) -> tuple[Debtor | None, list[Chased]]:
    """The debtor and its open invoices as reminders chase them (agency payments off)."""
    debtor = ledger.scalar(select(Debtor).where(Debtor.account == account))
    if debtor is None:
        return None, []
    invoices = list(ledger.scalars(select(Invoice).where(
        Invoice.debtor_id == debtor.id, Invoice.status == "open", Invoice.open_amount > 0)
        .order_by(Invoice.due_date, Invoice.number)))
    held = holds_by_invoice(ledger, [i.number for i in invoices])
    return debtor, [Chased(i.number, i.due_date, chased_open(i.open_amount, held.get(i.number, ())))
                    for i in invoices]


def holds_by_invoice(ledger: Session, numbers: list[str]) -> dict[str, list[Held]]:
    """Invoice -> the agency's payments on it the creditor has not booked yet."""
    found: dict[str, list[Held]] = {}
    for start in range(0, len(numbers), 1000):
        for row in ledger.scalars(select(AgencyHold).where(
                AgencyHold.invoice_number.in_(numbers[start:start + 1000]),
                AgencyHold.booked_on.is_(None)).order_by(AgencyHold.id)):
            found.setdefault(row.invoice_number, []).append(Held(row.amount, row.expected_open))
    return found


# --- recording -------------------------------------------------------------------------------

def record_payment(agency_db: Database, ledger_db: Database, creditor, agency: Agency,
                   payment: PaymentInput, *, actor: str, today: date, renderer) -> dict[str, Any]:
    """Record a payment, write its receipt, note it in the creditor's ledger.

    Returns the payment as a plain row (receipt number, file, imputation)."""
    if payment.method not in METHODS:
        raise PaymentRefused(f"--method {payment.method!r}: one of {', '.join(METHODS)}")
    if payment.received_on > today:
        raise PaymentRefused(f"--on {payment.received_on.isoformat()} is later than today "
                             f"({today.isoformat()}): record a payment once received")
    reference = (payment.reference or "").strip() or None
    with ledger_db.session() as ledger:
        debtor, invoices = chased_invoices(ledger, payment.account)
        if debtor is None:
            raise PaymentRefused(f"no debtor {payment.account!r} in the ledger of creditor "
                                 f"{creditor.code}")
        try:
            imputation = impute(payment.amount, [i for i in invoices if i.open_amount > 0],
                                payment.invoices)
        except ImputationError as exc:
            raise PaymentRefused(f"{payment.account}: {exc}") from None
        under_plan = _under_plan(ledger, debtor.id, [n for n, _ in imputation.lines])
        debtor_view = {"name": debtor.name, "account": debtor.account, "email": debtor.email,
                       "address": ", ".join(p for p in (debtor.address, " ".join(
                           x for x in (debtor.postcode, debtor.city) if x)) if p)}
    due = {i.number: i for i in invoices}
    with agency_db.session() as session:
        lock(session, "agency-receipts")
        if reference is not None:
            twin = session.scalar(select(AgencyPayment).where(
                AgencyPayment.method == payment.method, AgencyPayment.reference == reference))
            if twin is not None:
                raise PaymentRefused(
                    f"a {payment.method} with reference {reference!r} is already recorded "
                    f"(receipt {twin.receipt_number}, {twin.amount} on "
                    f"{twin.received_on.isoformat()}, creditor {twin.creditor}): nothing was "
                    "changed")
        year = today.year
        seq = (session.scalar(select(func.max(AgencyPayment.receipt_seq))
                              .where(AgencyPayment.receipt_year == year)) or 0) + 1
        number = f"Q{year}-{seq:06d}"
        lines = [{"invoice": n, "amount": f"{a:.2f}", "due_date": due[n].due_date.isoformat(),
                  "before": f"{due[n].open_amount:.2f}",
                  "remaining": f"{imputation.remaining[n]:.2f}"} for n, a in imputation.lines]
        row = AgencyPayment(
            creditor=creditor.code, account=payment.account, amount=payment.amount,
            received_on=payment.received_on, method=payment.method, reference=reference,
            lines=lines, unallocated=imputation.unallocated,
            remaining=imputation.remaining_total, under_plan=under_plan,
            receipt_number=number, receipt_year=year, receipt_seq=seq,
            recorded_at=datetime.now(timezone.utc), recorded_by=actor)
        path = agency.folder(creditor.code, "receipts") / f"{number}.pdf"
        html = receipt_html(agency, creditor, debtor_view, row, named=bool(payment.invoices),
                            issued_on=today)
        write_private(path, renderer.render(html, base_url=str(_templates())))
        row.receipt_file = str(path)
        session.add(row)
        session.flush()
        record(session, [Event(EventKind.AGENCY_PAYMENT_RECEIVED, payment.account, number,
                               {"creditor": creditor.code, "amount": payment.amount,
                                "received_on": payment.received_on, "method": payment.method,
                                "reference": reference, "invoices": lines})], actor)
        plain = payment_row(row)
    sync_ledger(agency_db, ledger_db, creditor.code, actor=actor)
    plain["email"] = debtor_view["email"]
    return plain


def _under_plan(ledger: Session, debtor_id: int, numbers: list[str]) -> bool:
    """The payment pays invoices of a payment plan active in the ledger (known to the
    creditor, R124-5: such a payment is flagged in the feed)."""
    for plan in ledger.scalars(select(PaymentPlan).where(PaymentPlan.debtor_id == debtor_id,
                                                         PaymentPlan.status == "active")):
        if set(numbers) & set(plan.invoice_numbers):
            return True
    return False


def sync_ledger(agency_db: Database, ledger_db: Database, creditor: str, *, actor: str) -> int:
    """Bring into the creditor's ledger every agency payment not there yet: its holds and
    audit entries (keyed by receipt and invoice, so twice writes them once)."""
    with agency_db.session() as session:
        pending = list(session.scalars(select(AgencyPayment).where(
            AgencyPayment.creditor == creditor, AgencyPayment.ledger_synced_at.is_(None))
            .order_by(AgencyPayment.id)))
    done = 0
    for payment in pending:
        with ledger_db.session() as ledger:
            known = set(ledger.scalars(select(AgencyHold.invoice_number).where(
                AgencyHold.receipt_number == payment.receipt_number)))
            events = []
            for line in payment.lines:
                if line["invoice"] in known:
                    continue
                invoice = ledger.scalar(select(Invoice).where(Invoice.number == line["invoice"]))
                if invoice is None:
                    continue
                held = holds_by_invoice(ledger, [invoice.number]).get(invoice.number, [])
                chased = chased_open(invoice.open_amount, held)
                amount = Decimal(line["amount"])
                ledger.add(AgencyHold(
                    receipt_number=payment.receipt_number, invoice_number=invoice.number,
                    amount=amount, received_on=payment.received_on,
                    expected_open=chased - amount, recorded_at=datetime.now(timezone.utc)))
                events.append(Event(EventKind.AGENCY_PAYMENT_RECEIVED, payment.account,
                                    invoice.number,
                                    {"receipt": payment.receipt_number, "amount": amount,
                                     "received_on": payment.received_on,
                                     "method": payment.method, "reference": payment.reference,
                                     "remaining": line["remaining"],
                                     "under_plan": payment.under_plan}))
            record(ledger, events, actor)
        with agency_db.session() as session:
            session.get(AgencyPayment, payment.id).ledger_synced_at = datetime.now(timezone.utc)
        done += 1
    return done


def book_holds(ledger_db: Database, today: date, *, actor: str) -> int:
    """Mark booked the agency payments an export of the creditor now shows (or whose
    invoice is settled): from then on they take nothing off what is chased."""
    with ledger_db.session() as ledger:
        rows = list(ledger.scalars(select(AgencyHold).where(AgencyHold.booked_on.is_(None))))
        invoices = {i.number: i for i in ledger.scalars(select(Invoice).where(
            Invoice.number.in_({r.invoice_number for r in rows})))} if rows else {}
        events = []
        for row in rows:
            invoice = invoices.get(row.invoice_number)
            if invoice is None:
                continue
            if invoice.status == "settled" or booked(invoice.open_amount,
                                                      Held(row.amount, row.expected_open)):
                row.booked_on = today
                account = ledger.scalar(select(Debtor.account).where(
                    Debtor.id == invoice.debtor_id))
                events.append(Event(EventKind.AGENCY_PAYMENT_BOOKED, account, row.invoice_number,
                                    {"receipt": row.receipt_number, "amount": row.amount,
                                     "open_amount": invoice.open_amount}))
        record(ledger, events, actor)
    return len(events)


def payment_row(row: AgencyPayment) -> dict[str, Any]:
    return {"receipt": row.receipt_number, "creditor": row.creditor, "account": row.account,
            "amount": f"{row.amount:.2f}", "received_on": row.received_on.isoformat(),
            "method": row.method, "reference": row.reference,
            "invoices": [line["invoice"] for line in row.lines], "lines": list(row.lines),
            "unallocated": f"{row.unallocated:.2f}", "remaining": f"{row.remaining:.2f}",
            "under_plan": row.under_plan, "receipt_file": row.receipt_file,
            "remittance": row.remittance_id}


def list_payments(session: Session, creditor: str | None = None) -> list[dict[str, Any]]:
    query = select(AgencyPayment).order_by(AgencyPayment.received_on, AgencyPayment.id)
    if creditor:
        query = query.where(AgencyPayment.creditor == creditor)
    return [payment_row(r) for r in session.scalars(query)]


# --- the receipt -----------------------------------------------------------------------------

def _templates() -> Path:
    from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES

    return DEFAULT_TEMPLATES / "agency"


def _render(name: str, context: dict[str, Any]) -> str:
    from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, _environment

    return _environment((str(DEFAULT_TEMPLATES),)).get_template(f"agency/{name}").render(context)


def party(creditor) -> dict[str, Any]:
    return {"name": creditor.name, "legal_form": creditor.legal_form, "siren": creditor.siren,
            "address": ", ".join((creditor.address or "").splitlines()), "iban": creditor.iban}


def receipt_html(agency: Agency, creditor, debtor: dict, row: AgencyPayment, *, named: bool,
                 issued_on: date) -> str:
    lines = [{"invoice": line["invoice"], "due_date": format_date(
        date.fromisoformat(line["due_date"]), "fr"), "before": _eur(Decimal(line["before"])),
        "paid": _eur(Decimal(line["amount"])), "after": _eur(Decimal(line["remaining"]))}
        for line in row.lines]
    return _render("receipt.html", {
        "agency": {"name": agency.name, "address": ", ".join(agency.address.splitlines())},
        "creditor": party(creditor), "debtor": debtor, "lines": lines,
        "receipt": {"number": row.receipt_number, "issued_on": format_date(issued_on, "fr"),
                    "amount": _eur(row.amount), "amount_words": amount_in_words(row.amount),
                    "received_on": format_date(row.received_on, "fr"),
                    "method": METHODS[row.method], "reference": row.reference,
                    "partial": row.remaining > 0, "named": named,
                    "unallocated": _eur(row.unallocated) if row.unallocated > 0 else None,
                    "remaining": _eur(row.remaining)}})


def mail_receipt(agency_db: Database, agency: Agency, creditor, receipt: str, to: str | None,
                 mailer_factory, *, actor: str, lease_minutes: int = 15) -> str:
    """Send the receipt to the debtor once (a mark keyed by the receipt number, taken under
    a lock with a lease): `sent`, `already sent`, `being sent` (another run holds it), or
    `no address` (the PDF is written either way)."""
    from datetime import timedelta

    if not to:
        return "no address"
    now = datetime.now(timezone.utc)
    with agency_db.session() as session:
        lock(session, f"agency-receipt:{receipt}")
        mark = session.scalar(select(AgencyMark).where(
            AgencyMark.creditor == creditor.code, AgencyMark.kind == "receipt",
            AgencyMark.key == receipt))
        if mark is not None and mark.status == "sent":
            return "already sent"
        if mark is not None:
            taken = mark.created_at if mark.created_at.tzinfo else mark.created_at.replace(
                tzinfo=timezone.utc)
            if taken > now - timedelta(minutes=lease_minutes):
                return "being sent"
            mark.created_at = now  # a dead run's mail: this run takes its lease
        payment = session.scalar(select(AgencyPayment).where(
            AgencyPayment.receipt_number == receipt))
        domain = agency.sender.rpartition("@")[2] or "localhost"
        message_id = f"<receipt.{receipt}.{creditor.code}@{domain}>"
        if mark is None:
            session.add(AgencyMark(creditor=creditor.code, kind="receipt", key=receipt,
                                   status="sending", message_id=message_id,
                                   details={"to": to}, created_at=now))
    message = EmailMessage()
    message["Subject"] = f"Quittance {receipt} — paiement reçu pour {creditor.name}"
    message["From"] = agency.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(
        f"Bonjour,\n\nNous accusons réception de votre paiement de {_eur(payment.amount)} "
        f"du {format_date(payment.received_on, 'fr')}, reçu pour le compte de {creditor.name}. "
        f"Vous trouverez ci-joint la quittance n° {receipt}.\n\n"
        f"Reste dû après ce paiement : {_eur(payment.remaining)}.\n\n{agency.name}\n")
    message.add_attachment(Path(payment.receipt_file).read_bytes(), maintype="application",
                           subtype="pdf", filename=f"quittance-{receipt}.pdf")
    with mailer_factory() as mailer:
        mailer.send(message)
    with agency_db.session() as session:
        mark = session.scalar(select(AgencyMark).where(
            AgencyMark.creditor == creditor.code, AgencyMark.kind == "receipt",
            AgencyMark.key == receipt))
        mark.status, mark.done_at = "sent", datetime.now(timezone.utc)
        record(session, [Event(EventKind.AGENCY_RECEIPT_SENT, payment.account, receipt,
                               {"creditor": creditor.code})], actor)
    return "sent"


def resend_receipts(agency_db: Database, agency: Agency, creditor, mailer_factory, *,
                    lease_minutes: int, actor: str) -> list[str]:
    """Receipts whose mail did not go through (the relay failed, the command died): sent
    again, once, with their Message-ID, once their lease has passed."""
    from datetime import timedelta

    limit = datetime.now(timezone.utc) - timedelta(minutes=lease_minutes)
    with agency_db.session() as session:
        waiting = [(m.key, (m.details or {}).get("to"), m.created_at) for m in session.scalars(
            select(AgencyMark).where(AgencyMark.creditor == creditor.code,
                                     AgencyMark.kind == "receipt",
                                     AgencyMark.status == "sending"))]
    sent = []
    for receipt, to, created in waiting:
        if (created if created.tzinfo else created.replace(tzinfo=timezone.utc)) > limit:
            continue
        if mail_receipt(agency_db, agency, creditor, receipt, to, mailer_factory,
                        actor=actor, lease_minutes=lease_minutes) == "sent":
            sent.append(receipt)
    return sent
