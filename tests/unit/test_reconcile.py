"""The exports of one day put together: one row per invoice, credits set against what is owed."""

from datetime import date
from decimal import Decimal

import pandas as pd

from recouvrement.ingest.reconcile import impute_credits, merge_same_day


def rows(*items):
    return pd.DataFrame([{
        "_line": i + 2, "invoice_number": number, "account": account,
        "issue_date": issued, "due_date": due, "export_date": date(2026, 11, 2),
        "document_type": kind, "amount": Decimal(amount), "open_amount": Decimal(open_amount),
        "currency": currency}
        for i, (number, account, kind, amount, open_amount, currency, issued, due)
        in enumerate(items)])


def inv(number, open_amount, due, account="411A", currency="EUR", amount=None):
    return (number, account, "invoice", amount or open_amount, open_amount, currency,
            date(2026, 9, 1), due)


def credit(number, amount, issued, account="411A", currency="EUR", kind="credit_note"):
    return (number, account, kind, amount, amount, currency, issued, issued)


def test_credits_go_to_the_invoice_due_first_then_the_next():
    good, imputations = impute_credits(rows(
        inv("F2", "100.00", date(2026, 10, 15)), inv("F1", "50.00", date(2026, 10, 1)),
        credit("AV1", "-120.00", date(2026, 10, 20)),
        inv("F3", "70.00", date(2026, 10, 1), account="411B")))
    left = dict(zip(good["invoice_number"], good["open_amount"]))
    assert left == {"F1": Decimal("0.00"), "F2": Decimal("30.00"), "AV1": Decimal("0.00"),
                    "F3": Decimal("70.00")}
    assert [(i.invoice, i.amount) for i in imputations] == [
        ("F1", Decimal("50.00")), ("F2", Decimal("70.00"))]


def test_a_credit_never_crosses_currencies_and_what_is_left_stays_a_credit():
    good, _ = impute_credits(rows(
        inv("F1", "100.00", date(2026, 10, 1), currency="USD"),
        credit("P1", "-30.00", date(2026, 10, 2), kind="payment"),
        inv("F2", "10.00", date(2026, 10, 1))))
    left = dict(zip(good["invoice_number"], good["open_amount"]))
    assert left == {"F1": Decimal("100.00"), "P1": Decimal("-20.00"), "F2": Decimal("0.00")}


def test_identical_rows_of_two_files_are_one_and_differing_ones_are_conflicts():
    a = rows(inv("F1", "100.00", date(2026, 10, 1)), inv("F2", "10.00", date(2026, 10, 1)))
    b = rows(inv("F1", "100.00", date(2026, 10, 9)), inv("F2", "12.00", date(2026, 10, 1)))
    day = merge_same_day([(0, "a.csv", a, False), (1, "FEC.txt", b, True)])
    assert list(day.rows["invoice_number"]) == ["F1"]
    assert day.rows.iloc[0]["due_date"] == date(2026, 10, 1)  # the open-items export's due date
    assert set(day.conflicts) == {0, 1}
    assert day.conflicts[0]["F2"].endswith("(FEC.txt) with different amounts or details")
