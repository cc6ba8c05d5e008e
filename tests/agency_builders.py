"""An agency with the two creditors of tests/fixtures/agency/creditors.toml, and debtors put
straight into a creditor's ledger (these tests are about the agency's money, not imports)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from recouvrement.services.agency.creditors import get_creditor, save_creditor
from recouvrement.services.agency.money import money_context
from recouvrement.services.agency.selection import agency_database
from recouvrement.services.agency.register_file import read_register
from recouvrement.adapters.db.models import Debtor, Invoice
from recouvrement.config.settings import load_agency_settings

REGISTER = Path(__file__).parent / "fixtures" / "agency" / "creditors.toml"
TRUST = Path(__file__).parent / "fixtures" / "agency"


def register_agency():
    """The agency's settings, its two creditors registered, and their contexts."""
    settings = load_agency_settings()
    ctx = agency_database(settings)
    with ctx.session() as session:
        for record in read_register(REGISTER):
            save_creditor(session, record, actor="test")
    with ctx.session() as session:
        return settings, {code: money_context(settings, code, get_creditor(session, code))
                          for code in ("atelier-nord", "sud-bureautique")}


def add_debtor(ledger_db, account: str, invoices: list[tuple[str, date, str]], *,
               email: str | None = "compta@dupont.example.com", name: str = "Dupont SARL"):
    """A debtor and its open invoices (number, due date, open amount) in the ledger."""
    with ledger_db.session() as session:
        debtor = Debtor(account=account, name=name, email=email, kind="B2B",
                        address="1 rue de la Paix", postcode="75002", city="Paris",
                        payment_terms_days=30, updated_at=datetime.now(timezone.utc))
        session.add(debtor)
        session.flush()
        for number, due, amount in invoices:
            session.add(Invoice(number=number, debtor_id=debtor.id,
                                issue_date=date.fromordinal(due.toordinal() - 30), due_date=due,
                                amount=Decimal(amount), open_amount=Decimal(amount),
                                status="open", last_seen_on=due))
    return account


def set_open(ledger_db, number: str, amount: str) -> None:
    """What the creditor's next export would do: the invoice's open amount."""
    with ledger_db.session() as session:
        from sqlalchemy import select

        session.scalar(select(Invoice).where(Invoice.number == number)).open_amount = Decimal(amount)


def pdf_text(path: str | Path) -> str:
    """The PDF's text (pypdf: the machine has no poppler), its spaces (no-break, narrow)
    made plain."""
    from pypdf import PdfReader

    out = " ".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return " ".join(out.replace("\u202f", " ").replace("\u00a0", " ").split())
