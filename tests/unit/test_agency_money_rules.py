"""The agency's money rules as tables: imputation, what is chased, fee, remittance, trust."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recouvrement.domain.agency import (
    BankLine,
    Chased,
    Expected,
    Held,
    ImputationError,
    Received,
    add_month,
    chased_open,
    fee,
    impute,
    overdue,
    reconcile,
    remit_by,
    remittance,
)

INVOICES = [Chased("F3", date(2026, 3, 1), D("300.00")),
            Chased("F1", date(2026, 1, 1), D("100.00")),
            Chased("F2", date(2026, 2, 1), D("200.00"))]


@pytest.mark.parametrize("amount, named, lines, unallocated", [
    ("150.00", (), [("F1", "100.00"), ("F2", "50.00")], "0.00"),  # oldest due first
    ("250.00", ("F3",), [("F3", "250.00")], "0.00"),  # the one named
    ("350.00", ("F3", "F1"), [("F3", "300.00"), ("F1", "50.00")], "0.00"),  # in the order named
    ("700.00", (), [("F1", "100.00"), ("F2", "200.00"), ("F3", "300.00")], "100.00"),
])
def test_imputes_named_invoices_else_oldest_due_first(amount, named, lines, unallocated):
    result = impute(D(amount), INVOICES, named)
    assert [(n, str(a)) for n, a in result.lines] == lines
    assert str(result.unallocated) == unallocated
    assert sum(a for _, a in result.lines) + result.unallocated == D(amount)


def test_refuses_an_invoice_not_open_and_a_nil_amount():
    with pytest.raises(ImputationError, match="F9"):
        impute(D("10"), INVOICES, ("F9",))
    with pytest.raises(ImputationError):
        impute(D("0"), INVOICES)


@pytest.mark.parametrize("open_now, held, chased", [
    ("1000.00", [], "1000.00"),
    ("1000.00", [("300.00", "700.00")], "700.00"),  # not booked yet: 300 off
    ("700.00", [("300.00", "700.00")], "700.00"),  # booked: nothing more off
    ("650.00", [("300.00", "700.00")], "650.00"),  # booked, and the debtor paid more directly
    ("1000.00", [("300.00", "700.00"), ("200.00", "500.00")], "500.00"),  # two, none booked
    ("700.00", [("300.00", "700.00"), ("200.00", "500.00")], "500.00"),  # the first booked
    ("1000.00", [("1200.00", "-200.00")], "0.00"),  # never below zero
])
def test_chased_amount_is_the_open_amount_less_unbooked_agency_payments(open_now, held, chased):
    assert chased_open(D(open_now), [Held(D(a), D(e)) for a, e in held]) == D(chased)


@pytest.mark.parametrize("collected, percent, minimum, expected", [
    ("1000.00", "8.5", None, "85.00"),
    ("123.45", "8.5", None, "10.49"),  # 10.49325 -> 10.49
    ("10.10", "5", None, "0.51"),  # 0.505 -> 0.51: half-up
    ("100.00", "8.5", "25.00", "25.00"),  # the minimum per remittance
    ("20.00", "8.5", "25.00", "20.00"),  # never more than collected
    ("0.00", "8.5", "25.00", "0.00"),
])
def test_fee_is_the_percent_rounded_half_up_with_its_minimum(collected, percent, minimum, expected):
    assert fee(D(collected), D(percent), D(minimum) if minimum else None) == D(expected)


@given(st.lists(st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
                min_size=1, max_size=12),
       st.decimals(min_value=D("0"), max_value=D("50"), places=2),
       st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("500"), places=2)))
def test_net_plus_fee_is_what_was_collected_to_the_cent(amounts, percent, minimum):
    payments = [Received(f"Q{i}", date(2026, 3, 1 + i), a) for i, a in enumerate(amounts)]
    r = remittance(payments, percent=percent, minimum=minimum, within_days=30)
    assert r.net + r.fee == r.collected == sum(amounts)
    assert D("0") <= r.fee <= r.collected and r.net >= 0
    assert r.fee.as_tuple().exponent == -2


@pytest.mark.parametrize("encashed, within, due", [
    (date(2026, 3, 10), 30, date(2026, 4, 10)),  # the law's month: a calendar month
    (date(2026, 1, 31), 30, date(2026, 2, 28)),  # the last day of a shorter month
    (date(2028, 1, 31), None, date(2028, 2, 29)),
    (date(2026, 12, 15), 30, date(2027, 1, 15)),
    (date(2026, 3, 10), 15, date(2026, 3, 25)),  # the mandate's own term
    (date(2026, 3, 10), 45, date(2026, 4, 24)),
])
def test_funds_are_due_back_a_month_after_encashment_unless_agreed(encashed, within, due):
    assert remit_by(encashed, within) == due


def test_add_month_and_overdue():
    assert add_month(date(2026, 8, 31)) == date(2026, 9, 30)
    assert overdue(date(2026, 4, 10), None, date(2026, 4, 11))
    assert not overdue(date(2026, 4, 10), None, date(2026, 4, 10))
    assert not overdue(date(2026, 4, 10), date(2026, 4, 12), date(2026, 5, 1))


def test_a_remittance_computed_by_hand():
    # 3 payments, 8.5 %, minimum 25.00: 412.30 + 87.70 + 1250.00 = 1750.00;
    # 8.5 % = 148.75 (above the minimum); net 1601.25; due a month after the first.
    payments = [Received("Q2", date(2026, 3, 12), D("87.70")),
                Received("Q1", date(2026, 3, 3), D("412.30")),
                Received("Q3", date(2026, 3, 28), D("1250.00"))]
    r = remittance(payments, percent=D("8.5"), minimum=D("25.00"), within_days=30)
    assert (r.collected, r.fee, r.net, r.due_on) == (
        D("1750.00"), D("148.75"), D("1601.25"), date(2026, 4, 3))
    assert [p.receipt for p in r.payments] == ["Q1", "Q2", "Q3"]


def test_trust_reconciliation_matches_by_reference_then_amount_and_lists_the_rest():
    lines = [BankLine(1, date(2026, 3, 3), D("412.30"), "VIR SEPA DUPONT REF VIR-77", "VIR-77"),
             BankLine(2, date(2026, 3, 13), D("87.70"), "REMISE CHEQUE 0001234", None),
             BankLine(3, date(2026, 3, 20), D("55.00"), "VIR INCONNU", None),
             BankLine(4, date(2026, 4, 2), D("-1601.25"), "VIR CREANCIER R2026-0001", None),
             BankLine(5, date(2026, 4, 2), D("-148.75"), "HONORAIRES R2026-0001", None)]
    expected = [Expected("payment:Q1", date(2026, 3, 3), D("412.30"), ("VIR-77",)),
                Expected("payment:Q2", date(2026, 3, 12), D("87.70"), ("CHQ-1234",)),
                Expected("remittance:1", date(2026, 4, 2), D("-1601.25"), ("R2026-0001",)),
                Expected("fee:1", date(2026, 4, 2), D("-148.75"), ("R2026-0001",)),
                Expected("payment:Q3", date(2026, 3, 28), D("1250.00"), ("VIR-90",))]
    r = reconcile(lines, expected)
    how = {e.key: (line.id, why) for line, e, why in r.matched}
    assert how == {"payment:Q1": (1, "reference"), "payment:Q2": (2, "amount and date"),
                   "remittance:1": (4, "reference"), "fee:1": (5, "reference")}
    assert [(line.id, "no payment recorded" in why) for line, why in r.unmatched_lines] == [
        (3, True)]
    assert [e.key for e, _ in r.unmatched_expected] == ["payment:Q3"]
    # books: 412.30 + 87.70 + 1250.00 - 1601.25 - 148.75 = 0; the bank lacks Q3 and has 55.00
    assert (r.bank_balance, r.book_balance, r.difference) == (D("-1195.00"), D("0.00"),
                                                              D("-1195.00"))
    assert not r.balanced


@pytest.mark.parametrize("amount, words", [
    ("1.00", "un euro"),
    ("21.00", "vingt-et-un euros"),
    ("80.00", "quatre-vingts euros"),
    ("71.01", "soixante-et-onze euros et un centime"),
    ("97.50", "quatre-vingt-dix-sept euros et cinquante centimes"),
    ("200.00", "deux-cents euros"),
    ("1234.50", "mille-deux-cent-trente-quatre euros et cinquante centimes"),
    ("380000.00", "trois-cent-quatre-vingt-mille euros"),
    ("2000000.00", "deux-millions d'euros"),
])
def test_amount_in_words(amount, words):
    from recouvrement.domain.agency import amount_in_words

    assert amount_in_words(D(amount)) == words


@given(st.lists(st.tuples(st.decimals(min_value=D("-9999.99"), max_value=D("9999.99"), places=2)
                          .filter(lambda a: a != 0),
                          st.integers(min_value=0, max_value=60), st.booleans()),
                min_size=1, max_size=15))
def test_a_statement_of_exactly_the_books_reconciles_to_the_cent(movements):
    start = date(2026, 11, 1)
    expected = [Expected(f"payment:Q{i}", start + timedelta(days=d), a, (f"REF-{i}",))
                for i, (a, d, _) in enumerate(movements)]
    # The bank books some a day or two later, some without the reference in the line.
    lines = [BankLine(i, start + timedelta(days=d + (2 if late else 0)), a,
                      f"VIR REF-{i}" if not late else "VIR SANS REF", None)
             for i, (a, d, late) in enumerate(movements)]
    r = reconcile(lines, expected)
    assert r.balanced and len(r.matched) == len(movements)
    assert r.bank_balance == r.book_balance == sum(a for a, _, _ in movements)


def test_a_reference_is_named_whole_in_a_label_not_as_the_start_of_another():
    start = date(2026, 11, 1)
    expected = [Expected("payment:Q1", start, D("0.01"), ("REF-1",)),
                Expected("payment:Q10", start + timedelta(days=13), D("0.01"), ("REF-10",))]
    lines = [BankLine(1, start + timedelta(days=2), D("0.01"), "VIR SANS REF", None),
             BankLine(10, start + timedelta(days=13), D("0.01"), "VIR REF-10 DUPONT", None)]
    r = reconcile(lines, expected)
    assert [(line.id, e.key, how) for line, e, how in r.matched] == [
        (10, "payment:Q10", "reference"), (1, "payment:Q1", "amount and date")]
    assert r.balanced
