"""Every Great Expectations check catches the rows it is there for, with its own reason."""

import pandas as pd
import pytest

from recouvrement.ingest.columns import CUSTOMER_COLUMNS, INVOICE_COLUMNS
from recouvrement.ingest.validation import (
    ValidationError,
    _customer_expectations,
    _invoice_expectations,
    _raised,
    check_customers,
    check_invoices,
    luhn_remainder,
    mark_known,
    run_expectations,
    type_invoices,
)

KNOWN = ["411A"]
INVOICE = {"invoice_number": "F1", "account": "411A", "issue_date": "01/10/2026",
           "due_date": "31/10/2026", "amount": "100,00", "open_amount": "100,00",
           "currency": "EUR", "export_date": "02/11/2026", "document_type": ""}
CUSTOMER = {"account": "411A", "name": "Dupont SA", "email": "compta@dupont.example.com",
            "phone": "+33 1 02 03 04 05", "kind": "B2B", "siren": "732829320", "language": "fr",
            "address": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR",
            "payment_terms_days": "30", "collective_proceedings_since": "", "blocked": ""}


def frame(rows, columns):
    raw = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], dtype=str)
    raw.insert(0, "_line", range(2, 2 + len(rows)))
    raw["_shape"] = ""
    return raw


def reasons_of(checked, line=2):
    found = checked.quarantined.set_index("_line")
    return found.loc[line, "reasons"] if line in found.index else []


INVOICE_CASES = {
    "invoice_number is missing": {"invoice_number": ""},
    "account is missing": {"account": ""},
    "issue_date is missing": {"issue_date": ""},
    "due_date is missing": {"due_date": ""},
    "export_date is missing": {"export_date": ""},
    "amount is missing": {"amount": ""},
    "open_amount is missing": {"open_amount": ""},
    "invoice_number appears more than once in the file with different amounts or details":
        "duplicate",
    "amount is negative": {"amount": "-100,00", "open_amount": "0"},
    "open_amount is negative and the row is not a credit note": {"open_amount": "-5,00"},
    "open_amount is greater than amount": {"open_amount": "150,00"},
    "due_date is before issue_date": {"due_date": "01/09/2026"},
    "currency is not an ISO 4217 code": {"currency": "EUX"},
    "account is not a known debtor (absent from the customers exports)": {"account": "411Z"},
    "document_type must be invoice, credit_note or payment (facture, avoir, règlement)":
        {"document_type": "bon de commande"},
    # a credit note is always made negative when read: these two guard the FEC's items
    "a credit note's or payment's open amount must not be owed by the debtor":
        ("typed", {"document_type": "credit_note", "amount_f": -100.0, "open_amount_f": 5.0}),
    "a credit note's open amount is more than its amount":
        ("typed", {"document_type": "credit_note", "amount_f": -100.0, "open_amount_f": -150.0}),
    "amount has more than two decimals": {"amount": "1000,005", "open_amount": "10,00"},
    "open_amount has more than two decimals": {"open_amount": "99,999"},
    "issue_date is after export_date": {"issue_date": "03/11/2026", "due_date": "03/12/2026"},
    "invoice_number is longer than 100 characters": {"invoice_number": "F" * 101},
    "account is longer than 64 characters": {"account": "4" * 65},
    "invoice_number contains a control character (line break, tab...)":
        {"invoice_number": "F1\r\nforged"},
    "account contains a control character (line break, tab...)": {"account": "411A\x85"},
    "account contains / \\ or .. : an account number is not a path": {"account": "../411A"},
    "account starts like a spreadsheet formula (= + - @)": {"account": "-411A"},
}


def test_every_invoice_expectation_has_a_case():
    assert {reason for _e, reason in _invoice_expectations()} == set(INVOICE_CASES)


@pytest.mark.parametrize("reason, case", INVOICE_CASES.items(), ids=list(INVOICE_CASES))
def test_each_invoice_expectation_quarantines_its_rows(reason, case):
    if case == "duplicate":
        checked = check_invoices(frame([INVOICE, {**INVOICE, "amount": "200,00"}],
                                       INVOICE_COLUMNS), KNOWN)
        assert reason in reasons_of(checked, 2) and reason in reasons_of(checked, 3)
        return
    if isinstance(case, tuple):
        typed = mark_known(type_invoices(frame([INVOICE], INVOICE_COLUMNS),
                                         pd.Series([[]], dtype=object)), KNOWN)
        for column, value in case[1].items():
            typed[column] = value
        failures = run_expectations("invoices", _invoice_expectations, typed)
        assert failures == {2: [reason]}
        return
    checked = check_invoices(frame([{**INVOICE, **case}], INVOICE_COLUMNS), KNOWN)
    assert reason in reasons_of(checked)
    assert checked.good.empty


def test_a_good_invoice_row_passes_every_expectation():
    checked = check_invoices(frame([INVOICE], INVOICE_COLUMNS), KNOWN)
    assert checked.quarantined.empty and list(checked.good["invoice_number"]) == ["F1"]


def test_the_same_row_twice_is_one_invoice():
    checked = check_invoices(frame([INVOICE, INVOICE], INVOICE_COLUMNS), KNOWN)
    assert checked.quarantined.empty and len(checked.good) == 1


CUSTOMER_CASES = {
    "account is missing": {"account": ""},
    "name is missing": {"name": ""},
    "account appears twice in the file": "duplicate",
    "kind must be B2B, B2C or PUBLIC": {"kind": "B2X"},
    "language must be fr or en": {"language": "de"},
    "email is not an e-mail address": {"email": "compta@@example"},
    "payment_terms_days must be between 0 and 365": {"payment_terms_days": "400"},
    "siren must be 9 digits (or a 14-digit SIRET)": {"siren": "73282932"},
    "siren fails its check digit (Luhn): a typing error?": {"siren": "732829321"},
    "account is longer than 64 characters": {"account": "4" * 65},
    "name is longer than 300 characters": {"name": "N" * 301},
    "email is longer than 320 characters": {"email": "a" * 310 + "@example.com"},
    "phone is longer than 50 characters": {"phone": "0" * 51},
    "siren is longer than 20 characters": {"siren": "7" * 21},
    "address is longer than 500 characters": {"address": "a" * 501},
    "postcode is longer than 20 characters": {"postcode": "7" * 21},
    "city is longer than 200 characters": {"city": "c" * 201},
    "country is longer than 100 characters": {"country": "c" * 101},
    "legal_form is longer than 60 characters": {"legal_form": "S" * 61},
    "name starts like a spreadsheet formula (= + - @)": {"name": "=1+1"},
    "name contains HTML markup": {"name": "Dupont <b>SA</b>"},
    "address starts like a spreadsheet formula (= + - @)": {"address": "@SUM(A1)"},
    "address contains HTML markup": {"address": "<iframe src=x>"},
    "city starts like a spreadsheet formula (= + - @)": {"city": "+cmd"},
    "city contains HTML markup": {"city": "Paris<script>"},
    "account contains / \\ or .. : an account number is not a path": {"account": "411/A"},
    "account starts like a spreadsheet formula (= + - @)": {"account": "=411A"},
    **{f"{column} contains a control character (line break, tab...)": {column: value}
       for column, value in (("account", "411A\n"), ("name", "Dupont\r\nSA"),
                             ("email", "compta@dupont.example.com\u2028"), ("phone", "01\t02"),
                             ("siren", "732829320\x81"), ("address", "1 rue\x0bde la Paix"),
                             ("postcode", "75002\n"), ("city", "Par\x85is"),
                             ("country", "F\u2029R"), ("legal_form", "SAS\n"))},
}


def test_every_customer_expectation_has_a_case():
    assert {reason for _e, reason in _customer_expectations()} == set(CUSTOMER_CASES)


@pytest.mark.parametrize("reason, case", CUSTOMER_CASES.items(), ids=list(CUSTOMER_CASES))
def test_each_customer_expectation_quarantines_its_rows(reason, case):
    rows = [CUSTOMER, CUSTOMER] if case == "duplicate" else [{**CUSTOMER, **case}]
    checked = check_customers(frame(rows, CUSTOMER_COLUMNS))
    assert reason in reasons_of(checked)
    assert checked.good.empty


def test_a_good_customer_passes_and_a_phone_may_start_with_plus():
    checked = check_customers(frame([CUSTOMER], CUSTOMER_COLUMNS))
    assert checked.quarantined.empty


@pytest.mark.parametrize("siren, remainder", [
    ("732829320", 0), ("552100554", 0), ("356000000", 0), ("123456789", 7), ("12345678", None),
])
def test_the_luhn_check_of_a_siren(siren, remainder):
    got = luhn_remainder(pd.Series([siren]))[0]
    assert (None if pd.isna(got) else int(got)) == remainder


def test_an_expectation_that_cannot_be_evaluated_stops_the_run():
    typed = mark_known(type_invoices(frame([INVOICE], INVOICE_COLUMNS),
                                     pd.Series([[]], dtype=object)), KNOWN)
    with pytest.raises(ValidationError, match="could not be checked"):
        run_expectations("invoices", _invoice_expectations, typed.drop(columns=["currency"]))


@pytest.mark.parametrize("info, problem", [
    (None, None),
    ({"raised_exception": False, "exception_message": None}, None),
    ({"raised_exception": True, "exception_message": "boom"}, "boom"),
    # several metrics: GX keys the exceptions by metric
    ({("column_values.nonnull", "x"): {"raised_exception": True, "exception_message": "deep"}},
     "deep"),
])
def test_an_exception_is_found_wherever_gx_puts_it(info, problem):
    assert _raised(info) == problem


@pytest.mark.parametrize("given, stored", [
    ("", None), ("yes", True), ("Oui", True), ("1", True), ("no", False), ("NON", False),
    ("false", False),
])
def test_the_trader_column_is_yes_no_or_blank(given, stored):
    checked = check_customers(frame([{**CUSTOMER, "trader": given, "legal_form": "SCI"}],
                                    CUSTOMER_COLUMNS))
    assert checked.quarantined.empty
    assert checked.good["trader"].iloc[0] is stored
    assert checked.good["legal_form"].iloc[0] == "SCI"


def test_a_trader_value_that_is_not_yes_or_no_is_quarantined_with_its_reason():
    checked = check_customers(frame([{**CUSTOMER, "trader": "perhaps"}], CUSTOMER_COLUMNS))
    assert "trader 'perhaps' is not yes or no" in reasons_of(checked)
    assert checked.good.empty
