"""The control total's comparison and the holds, as tables (no database)."""

from decimal import Decimal as D

import pandas as pd
import pytest

from recouvrement.domain.reconciliation import (
    Absence,
    HoldLimits,
    absence_hold_reasons,
    compare,
    control_hold_reasons,
)
from recouvrement.ingest.control import fec_balances, invoice_balances

LIMITS = HoldLimits()


@pytest.mark.parametrize("file, ledger, quarantined, newer, blocking", [
    (D("100.00"), D("100.00"), False, False, False),   # agrees
    (D("100.00"), D("99.99"), False, False, True),     # a cent off
    (D("0.00"), D("100.00"), True, False, True),       # quarantine never explains chasing more
    (D("100.00"), D("40.00"), True, False, False),     # less: the rest waits in quarantine
    (D("100.00"), D("40.00"), False, True, False),     # the ledger holds a later export
    (None, D("40.00"), True, False, False),            # an amount unreadable: not compared
])
def test_which_differences_hold_a_file(file, ledger, quarantined, newer, blocking):
    control = compare({("411A", "EUR"): file}, {("411A", "EUR"): ledger},
                      {"411A"} if quarantined else set(), {"411A"} if newer else set(), 100, 0)
    assert bool(control.blocking) is blocking
    assert bool(control_hold_reasons(control, LIMITS)) is blocking


def test_only_what_the_file_shows_is_compared_and_not_what_another_file_of_the_day_shows_too():
    control = compare({("411A", "EUR"): D("10.00"), ("411B", "USD"): D("1.00")},
                      {("411A", "EUR"): D("10.00"), ("411A", "USD"): D("5.00"),
                       ("411B", "USD"): D("7.00"), ("411C", "EUR"): D("7.00")}, set(), set(), 3,
                      0, shared={("411B", "USD")})
    assert control.blocking == [] and control.as_dict()["accounts"] == 2
    assert [(a.account, a.currency) for a in control.not_compared] == [("411B", "USD")]


@pytest.mark.parametrize("quarantined, rows, held", [(5, 100, False), (6, 100, True),
                                                      (1, 10, True), (0, 0, False)])
def test_the_quarantine_share_holds_a_file_above_the_setting(quarantined, rows, held):
    control = compare({}, {}, set(), set(), rows, quarantined)
    assert bool(control_hold_reasons(control, LIMITS)) is held


def settled(amount, currency="EUR", dossier=None):
    return {"number": "F1", "account": "411A", "currency": currency, "open_amount": D(amount),
            "dossier": dossier}


@pytest.mark.parametrize("open_before, gone, held", [
    ({"EUR": D("1000")}, [settled("200")], False),             # 20 %: not above
    ({"EUR": D("1000")}, [settled("200.01")], True),
    ({"EUR": D("1000")}, [settled("-500")], False),            # a credit gone is no payment
    ({"EUR": D("1000"), "USD": D("10")}, [settled("5", "USD")], True),  # per currency
    ({"EUR": D("1000")}, [settled("1", dossier="d-1")], True),  # a dossier in litigation
])
def test_settlement_by_absence_waits_above_the_share_or_for_a_dossier(open_before, gone, held):
    reasons = absence_hold_reasons(Absence(open_before, gone), LIMITS)
    assert bool(reasons) is held


def fec(rows, amounts="debit_credit"):
    columns = ["_line", "CompteNum", "CompAuxNum", "Debit", "Credit", "Montant", "Sens",
               "Montantdevise", "Idevise"]
    frame = pd.DataFrame([dict(zip(columns, r)) for r in rows], columns=columns, dtype=str)
    frame["_line"] = frame["_line"].astype("int64")
    frame.attrs["amounts"] = amounts
    return frame


def test_a_fec_balance_is_debit_minus_credit_of_each_customer_account():
    raw = fec([
        (2, "41100000", "411A", "1 200,00", "", "", "", "", ""),
        (3, "70600000", "", "", "1 000,00", "", "", "", ""),
        (4, "41100000", "411A", "", "200,50", "", "", "", ""),
        (5, "411B", "", "10,00", "0,00", "", "", "", ""),          # a detailed 411 account
        (6, "41100000", "411C", "90,00", "", "", "", "100,00", "usd"),  # in its own currency
        (7, "41100000", "411D", "abc", "", "", "", "", ""),         # unreadable
    ])
    balances, customer = fec_balances(raw)
    assert balances == {("411A", "EUR"): D("999.50"), ("411B", "EUR"): D("10.00"),
                        ("411C", "USD"): D("100.00"), ("411D", "EUR"): None}
    assert list(customer) == [True, False, True, True, True, True]


def test_a_fec_in_montant_sens():
    raw = fec([(2, "411", "411A", "", "", "50,00", "D", "", ""),
               (3, "411", "411A", "", "", "20,00", "C", "", "")], amounts="montant_sens")
    assert fec_balances(raw)[0] == {("411A", "EUR"): D("30.00")}


def test_an_open_items_balance_counts_credits_negative_and_identical_rows_once():
    columns = ["_line", "invoice_number", "account", "issue_date", "due_date", "amount",
               "open_amount", "currency", "document_type"]
    rows = [(2, "F1", "411A", "2026-10-01", "2026-10-31", "100", "100", "", ""),
            (3, "F1", "411A", "2026-10-01", "2026-10-31", "100", "100", "", ""),
            (4, "A1", "411A", "2026-10-05", "2026-10-05", "30", "30", "EUR", "avoir"),
            (5, "F2", "411B", "2026-10-01", "2026-10-31", "50", "50,5", "EUR", "")]
    raw = pd.DataFrame([dict(zip(columns, r)) for r in rows], dtype=str)
    assert invoice_balances(raw) == {("411A", "EUR"): D("70.00"), ("411B", "EUR"): D("50.50")}


@pytest.mark.parametrize("english, french", [
    ("2 of its 5 customer rows (40.0 %) go to quarantine, more than 5 %",
     "2 lignes clients sur 5 (40,0 %) sont en quarantaine, plus de 5 %"),
    ("it would settle 21 invoice(s) by their absence, 23670.00 EUR or 88.5 % of the open amount "
     "(more than 20 %)", "il solderait par leur absence 21 facture(s), 23670,00 EUR, soit 88,5 % "
     "de l'encours (plus de 20 %)"),
    ("something new", "something new"),
])
def test_why_a_file_is_held_in_french(english, french):
    from recouvrement.ingest.control import _reason_fr

    assert _reason_fr(english) == french
