"""Remittances (R124-6) with the agency's fee (R124-3), and the trust account (R124-2)."""

import dataclasses
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from recouvrement.services.agency.creditors import save_creditor
from recouvrement.services.agency.money import money_context
from recouvrement.services.agency.payments import PaymentInput, record_payment
from recouvrement.services.agency.remittances import (RemittanceRefused, list_remittances,
                                             make_remittance, mark_paid)
from recouvrement.services.agency.trust import StatementError, import_statement, reconcile
from recouvrement.adapters.pdf import FakePdfRenderer, WeasyPrintRenderer
from tests.agency_builders import TRUST, add_debtor, pdf_text, register_agency
from tests.conftest import BACKENDS


def three_payments():
    """Atelier du Nord on a mandate of 8.5 % with 25.00 minimum; three payments in November."""
    settings, creditors = register_agency()
    ctx = creditors["atelier-nord"]
    mandate = dataclasses.replace(ctx.record.mandate, fee_percent=D("8.5"), fee_minimum=D("25.00"))
    with ctx.agency_db.session() as session:
        save_creditor(session, dataclasses.replace(ctx.record, mandate=mandate), actor="test")
    ctx = money_context(settings, "atelier-nord")
    add_debtor(ctx.ledger_db, "411DUPONT", [("F1", date(2026, 9, 10), "500.00"),
                                            ("F2", date(2026, 10, 10), "2000.00")])
    for amount, on, method, ref in (("412.30", date(2026, 11, 2), "transfer", "VIR-A-0211"),
                                    ("87.70", date(2026, 11, 5), "cheque", "CHQ-0001234"),
                                    ("1250.00", date(2026, 11, 20), "transfer", "VIR-B-2011")):
        record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                       PaymentInput("411DUPONT", D(amount), on, method, ref),
                       actor="test", today=date(2026, 11, 30), renderer=FakePdfRenderer())
    return ctx


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_remittance_computed_by_hand(home, database_url):
    ctx = three_payments()
    # By hand: 412.30 + 87.70 + 1250.00 = 1750.00 collected; 8.5 % = 148.75 (over the
    # 25.00 minimum); net 1601.25; due a calendar month after the first encashment (2 Nov).
    made = make_remittance(ctx.agency_db, ctx.record, ctx.agency, period_from=date(2026, 11, 1),
                           period_to=date(2026, 11, 30), today=date(2026, 12, 1), actor="test",
                           renderer=WeasyPrintRenderer())
    assert (made["number"], made["collected"], made["fee"], made["net"], made["due_on"]) == (
        "R2026-0001", "1750.00", "148.75", "1601.25", "2026-12-02")
    text = pdf_text(made["statement"])
    for expected in ("Relevé de reversement n° R2026-0001", "Q2026-000001", "Q2026-000003",
                     "1 750,00 €", "148,75 €", "1 601,25 €", "8,5 % des sommes encaissées",
                     "au minimum 25,00 €", "02/12/2026", "MDT-2026-014", "R124-3"):
        assert expected in text, expected
    rows = Path(made["csv"]).read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "remittance;receipt;received_on;account;invoices;method;reference;amount"
    assert rows[1] == "R2026-0001;Q2026-000001;2026-11-02;411DUPONT;F1;transfer;VIR-A-0211;412.30"
    assert rows[-3:] == ["R2026-0001;fee;;;;;;148.75", "R2026-0001;net;;;;;;1601.25",
                         "R2026-0001;due_on;2026-12-02;;;;;"]
    # Every payment goes on one remittance only.
    with pytest.raises(RemittanceRefused, match="nothing to remit"):
        make_remittance(ctx.agency_db, ctx.record, ctx.agency, period_from=date(2026, 11, 1),
                        period_to=date(2026, 11, 30), today=date(2026, 12, 1), actor="test",
                        renderer=FakePdfRenderer())
    # Not paid by its due date: overdue; paid late: late, no longer overdue.
    with ctx.agency_db.session() as session:
        [listed] = list_remittances(session, date(2026, 12, 3), "atelier-nord")
    assert listed["overdue"] and listed["status"] == "open"
    paid = mark_paid(ctx.agency_db, "R2026-0001", paid_on=date(2026, 12, 3),
                     reference="VIR-REM-1", today=date(2026, 12, 4), actor="test")
    assert (paid["status"], paid["overdue"], paid["late"]) == ("paid", False, True)
    with pytest.raises(RemittanceRefused, match="already paid"):
        mark_paid(ctx.agency_db, "R2026-0001", paid_on=date(2026, 12, 3), reference="X",
                  today=date(2026, 12, 4), actor="test")


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_trust_account_reconciles_and_names_what_does_not(home, database_url):
    ctx = three_payments()
    make_remittance(ctx.agency_db, ctx.record, ctx.agency, period_from=date(2026, 11, 1),
                    period_to=date(2026, 11, 30), today=date(2026, 12, 1), actor="test",
                    renderer=FakePdfRenderer())
    mark_paid(ctx.agency_db, "R2026-0001", paid_on=date(2026, 12, 2), reference="VIR-REM-1",
              today=date(2026, 12, 2), actor="test")
    november = import_statement(ctx.agency_db, TRUST / "releve-2026-11.csv", actor="test")
    assert (november["imported"], november["duplicates"], november["summaries"]) == (4, 0, 1)
    assert import_statement(ctx.agency_db, TRUST / "releve-2026-11.csv", actor="test")["already"]
    # December's statement starts with a line November's already had: kept, counted once.
    december = import_statement(ctx.agency_db, TRUST / "releve-2026-12-montant-signe.csv",
                                actor="test")
    assert (december["imported"], december["duplicates"]) == (3, 1)

    result = reconcile(ctx.agency_db, date(2026, 12, 31))
    how = {m["with"]: (m["row"], m["how"]) for m in result["matched"]}
    assert how == {"payment:Q2026-000001": (5, "reference"),
                   "payment:Q2026-000002": (6, "amount and date"),
                   "payment:Q2026-000003": (8, "reference"),
                   "remittance:R2026-0001": (3, "reference"),
                   "fee:R2026-0001": (4, "reference")}
    [unknown] = result["unmatched_lines"]
    assert (unknown["file"], unknown["row"], unknown["amount"]) == ("releve-2026-11.csv", 7,
                                                                   "55.00")
    assert "no payment recorded by the agency" in unknown["reason"]
    # payments received - remittances paid - fees taken = 1750.00 - 1601.25 - 148.75 = 0
    assert (result["book_balance"], result["bank_balance"], result["difference"]) == (
        "0.00", "55.00", "55.00")
    assert not result["balanced"] and result["unmatched_books"] == []
    # As of the end of November: the three payments, nothing paid out yet.
    november_end = reconcile(ctx.agency_db, date(2026, 11, 30))
    assert (november_end["book_balance"], november_end["bank_balance"]) == ("1750.00", "1805.00")


def test_a_statement_row_that_cannot_be_read_imports_nothing(home, tmp_path):
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.config.settings import load_agency_settings as load_settings

    bad = tmp_path / "releve.csv"
    bad.write_text("Date;Libellé;Montant\n01/11/2026;VIR A;10,00\n31/02/2026;VIR B;5,00\n",
                   encoding="utf-8")
    with pytest.raises(StatementError, match=r"releve.csv, row 3: .*nothing was imported"):
        import_statement(agency_database(load_settings()), bad, actor="test")
    nodate = tmp_path / "autre.csv"
    nodate.write_text("Quand;Quoi\n01/11/2026;VIR A\n", encoding="utf-8")
    with pytest.raises(StatementError, match="no header row"):
        import_statement(agency_database(load_settings()), nodate, actor="test")


def test_the_demos_money_reconciles_but_for_the_transfer_nobody_recorded(home):
    import random
    from datetime import timedelta

    from recouvrement.entrypoints.demo_money import demo_money_day, demo_money_finish

    settings, creditors = register_agency()
    for code, ctx in creditors.items():
        add_debtor(ctx.ledger_db, "411DUPONT", [("F1", date(2026, 9, 10), "900.00"),
                                                ("F2", date(2026, 9, 30), "1500.00")])
        add_debtor(ctx.ledger_db, "411MARTIN", [("F3", date(2026, 9, 20), "640.00")],
                   name="Martin SA", email=None)
    rng, did = random.Random(7), []
    day = date(2026, 10, 1)
    while day <= date(2026, 12, 2):
        for ctx in creditors.values():
            did += demo_money_day(settings, ctx.record, day, rng, renderer=FakePdfRenderer())
        day += timedelta(days=1)
    assert any("receipt" in d for d in did) and any("remittance" in d for d in did)
    result = demo_money_finish(settings, date(2026, 12, 2))["reconciled"]
    assert [line["amount"] for line in result["unmatched_lines"]] == ["12.00"]
    assert result["unmatched_books"] == [] and result["difference"] == "12.00"
