"""Payments received by the agency: receipt (R124-6), imputation, what reminders still chase."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from recouvrement.services.agency.payments import (PaymentInput, PaymentRefused, book_holds,
                                          mail_receipt, record_payment)
from recouvrement.adapters.db.models import AuditEntry
from recouvrement.adapters.ledger import load_states
from recouvrement.adapters.pdf import WeasyPrintRenderer
from tests.agency_builders import add_debtor, pdf_text, register_agency, set_open
from tests.conftest import BACKENDS

TODAY = date(2026, 11, 20)


def chased(ctx, account="411DUPONT"):
    with ctx.ledger_db.session() as session:
        from recouvrement.adapters.db.models import Debtor

        debtor_id = session.scalar(select(Debtor.id).where(Debtor.account == account))
        [state] = load_states(session, [debtor_id], TODAY)
        return {i.number: i.open_amount for i in state.invoices}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_partial_payment_is_receipted_and_no_longer_chased(home, database_url, sink):
    settings, creditors = register_agency()
    ctx = creditors["atelier-nord"]
    add_debtor(ctx.ledger_db, "411DUPONT", [("F2", date(2026, 10, 10), "500.00"),
                                            ("F1", date(2026, 9, 10), "1000.00")])
    done = record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                          PaymentInput("411DUPONT", D("300.00"), date(2026, 11, 2), "transfer",
                                       "VIR-2026-1102-01"),
                          actor="user:test", today=TODAY, renderer=WeasyPrintRenderer())
    assert done["receipt"] == "Q2026-000001"
    assert done["lines"][0]["invoice"] == "F1" and done["remaining"] == "1200.00"  # oldest first
    text = pdf_text(done["receipt_file"])
    for expected in ("Quittance n° Q2026-000001", "300,00 €", "trois-cents euros",
                     "Atelier du Nord SAS", "Dupont SARL", "virement", "VIR-2026-1102-01",
                     "paiement partiel", "1 200,00 €", "F1", "700,00 €", "R124-6"):
        assert expected in text, expected

    # The ledger: an audit entry per invoice paid, and the 300 no longer chased...
    with ctx.ledger_db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.event == "agency.payment_received")).one()
        assert (entry.subject, entry.details["receipt"], entry.details["remaining"]) == (
            "F1", "Q2026-000001", "700.00")
    assert chased(ctx) == {"F1": D("700.00"), "F2": D("500.00")}
    # ...until the creditor's export shows it booked; then it takes nothing more off.
    set_open(ctx.ledger_db, "F1", "700.00")
    assert book_holds(ctx.ledger_db, TODAY, actor="test") == 1
    set_open(ctx.ledger_db, "F1", "650.00")  # the debtor paid 50 to the creditor directly
    assert chased(ctx) == {"F1": D("650.00"), "F2": D("500.00")}

    # The same bank reference twice: refused, nothing recorded.
    with pytest.raises(PaymentRefused, match="already recorded .receipt Q2026-000001"):
        record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                       PaymentInput("411DUPONT", D("300.00"), date(2026, 11, 2), "transfer",
                                    "VIR-2026-1102-01"),
                       actor="user:test", today=TODAY, renderer=WeasyPrintRenderer())

    # Mailed to the debtor once, whatever the reruns.
    assert mail_receipt(ctx.agency_db, ctx.agency, ctx.record, "Q2026-000001", done["email"],
                        ctx.mailer, actor="test") == "sent"
    assert mail_receipt(ctx.agency_db, ctx.agency, ctx.record, "Q2026-000001", done["email"],
                        ctx.mailer, actor="test") == "already sent"
    [message] = sink.wait_for(1)
    assert message["To"] == "compta@dupont.example.com"
    assert [p.get_filename() for p in message.iter_attachments()] == ["quittance-Q2026-000001.pdf"]


def test_a_payment_paying_an_invoice_in_full_drops_it_and_numbers_follow(home, sink):
    from recouvrement.adapters.pdf import FakePdfRenderer

    settings, creditors = register_agency()
    ctx = creditors["sud-bureautique"]
    add_debtor(ctx.ledger_db, "411MARTIN", [("S1", date(2026, 9, 1), "200.00"),
                                            ("S2", date(2026, 10, 1), "400.00")], email=None)
    first = record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                           PaymentInput("411MARTIN", D("400.00"), date(2026, 11, 3), "cheque",
                                        "CHQ-1", ("S2",)),
                           actor="t", today=TODAY, renderer=FakePdfRenderer())
    second = record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                            PaymentInput("411MARTIN", D("250.00"), date(2026, 11, 4), "cash"),
                            actor="t", today=TODAY, renderer=FakePdfRenderer())
    assert (first["receipt"], second["receipt"]) == ("Q2026-000001", "Q2026-000002")
    assert second["unallocated"] == "50.00" and second["remaining"] == "0.00"
    assert chased(ctx, "411MARTIN") == {}
    assert mail_receipt(ctx.agency_db, ctx.agency, ctx.record, "Q2026-000002", None,
                        ctx.mailer, actor="t") == "no address"
    with pytest.raises(PaymentRefused, match="S9"):
        record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                       PaymentInput("411MARTIN", D("1"), date(2026, 11, 4), "cash", None, ("S9",)),
                       actor="t", today=TODAY, renderer=FakePdfRenderer())


def test_a_receipt_the_relay_refused_is_sent_by_a_later_run_once(home, sink):
    from recouvrement.services.agency.obligations import after_creditor_run
    from recouvrement.adapters.mail.mailer import TransientSendError
    from recouvrement.adapters.pdf import FakePdfRenderer

    settings, creditors = register_agency()
    ctx = creditors["sud-bureautique"]  # no report schedule, no recipients: only the receipt
    add_debtor(ctx.ledger_db, "411DUPONT", [("F1", date(2026, 9, 10), "100.00")])
    done = record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                          PaymentInput("411DUPONT", D("40.00"), date(2026, 11, 2)),
                          actor="t", today=TODAY, renderer=FakePdfRenderer())

    class Refusing:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send(self, message):
            raise TransientSendError("421 try later")

    with pytest.raises(TransientSendError):
        mail_receipt(ctx.agency_db, ctx.agency, ctx.record, done["receipt"], done["email"],
                     Refusing, actor="t")
    settings = settings.model_copy(update={"sending_lease_minutes": 0})
    assert after_creditor_run(settings, ctx.record, TODAY, ctx=ctx)["receipts_resent"] == [
        done["receipt"]]
    assert after_creditor_run(settings, ctx.record, TODAY, ctx=ctx)["receipts_resent"] == []
    [mail] = sink.wait_for(1)
    assert mail["Message-ID"].startswith(f"<receipt.{done['receipt']}.")
