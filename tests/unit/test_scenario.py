"""The synthetic ledger behaves like a real customer base and exports like
French accounting software."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from recouvrement.entrypoints.scenario import (
    BAD_CUSTOMER_ROWS,
    BAD_INVOICE_ROWS,
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    DemoLedger,
    luhn_check_digit,
)

START = date(2026, 3, 2)
DATE_COLUMNS = {
    "customers": ["collective_proceedings_since"],
    "invoices": ["issue_date", "due_date", "export_date"],
}
TEXT_COLUMNS = {"postcode": str, "siren": str, "phone": str}


@pytest.fixture(scope="module")
def ledger() -> DemoLedger:
    return DemoLedger.generate(300, START, seed=7)


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def planned(ledger: DemoLedger, behaviour: str) -> pd.DataFrame:
    return ledger.invoices[ledger.invoices["behaviour"] == behaviour]


def open_numbers(ledger: DemoLedger, day: date) -> set[str]:
    return set(ledger.snapshot(day)[1]["invoice_number"])


def test_same_seed_gives_identical_exports(ledger):
    again = DemoLedger.generate(300, START, seed=7)
    for day in (START, START + timedelta(days=17)):
        for mine, theirs in zip(ledger.snapshot(day), again.snapshot(day)):
            pd.testing.assert_frame_equal(mine, theirs)


def test_another_seed_gives_another_ledger(ledger):
    other = DemoLedger.generate(300, START, seed=8)
    assert not ledger.snapshot(START)[1].equals(other.snapshot(START)[1])


def test_exports_have_the_interface_columns(ledger):
    customers, invoices = ledger.snapshot(START)
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert list(invoices.columns) == INVOICE_COLUMNS
    assert customers["account"].is_unique
    assert invoices["invoice_number"].is_unique
    assert set(invoices["account"]) <= set(customers["account"])
    assert (invoices["currency"] == "EUR").all()


def test_luhn_check_digit_of_known_sirens():
    body = pd.DataFrame([list(map(int, "73282932")), list(map(int, "55210055"))]).to_numpy()
    assert luhn_check_digit(body).tolist() == [0, 4]


def test_every_siren_is_luhn_valid_and_unique(ledger):
    customers = ledger.snapshot(START)[0]
    companies = customers[customers["kind"] != "B2C"]
    assert companies["siren"].str.fullmatch(r"\d{9}").all()
    assert all(luhn_valid(siren) for siren in companies["siren"])
    assert companies["siren"].is_unique
    assert (companies.loc[companies["kind"] == "PUBLIC", "siren"].str[0] == "2").all()
    assert customers.loc[customers["kind"] == "B2C", "siren"].isna().all()


def test_debtor_population_looks_like_a_customer_base(ledger):
    customers = ledger.snapshot(START)[0]
    share = customers["kind"].value_counts(normalize=True)
    assert 0.70 < share["B2B"] < 0.90 and 0.08 < share["B2C"] < 0.25 and share["PUBLIC"] > 0
    assert set(customers["payment_terms_days"]) <= {30, 45, 60}
    assert (customers.loc[customers["kind"] == "PUBLIC", "payment_terms_days"] == 30).all()
    assert customers["account"].str.fullmatch(r"411[A-Z]+\d*").all()
    emails = customers["email"].dropna()
    assert emails.str.fullmatch(r"[a-z0-9.]+@example\.(com|fr)").all()
    assert 0 < customers["email"].isna().sum() < len(customers) * 0.1
    assert 0 < (customers["language"] == "en").sum() < 20
    assert customers["postcode"].str.fullmatch(r"\d{5}").all()
    assert customers["collective_proceedings_since"].notna().sum() == 1
    assert (customers["blocked"] == "yes").sum() == 1


def test_behaviours_are_assigned_in_the_expected_shares(ledger):
    share = ledger.debtors["behaviour"].value_counts(normalize=True)
    assert 0.45 < share["good"] < 0.65
    assert 0.20 < share["late"] < 0.40
    assert 0.06 < share["defaulter"] < 0.20
    assert share["partial"] > 0


def test_some_invoices_are_already_overdue_on_day_one(ledger):
    invoices = ledger.snapshot(START)[1]
    assert (invoices["due_date"] < pd.Timestamp(START)).sum() > 20
    assert invoices["issue_date"].min() >= pd.Timestamp(START - timedelta(days=92))


def test_amounts_are_mostly_between_200_and_20000(ledger):
    amounts = ledger.snapshot(START + timedelta(days=60))[1]["amount"]
    assert amounts.between(200, 20_000).mean() > 0.85
    assert (amounts.round(2) == amounts).all()


def test_good_payer_invoice_disappears_on_its_payment_date(ledger):
    good = planned(ledger, "good")
    invoice = good[good["paid_on"] > good["issue_date"]].iloc[0]
    paid_on = invoice["paid_on"].date()
    assert invoice["paid_on"] <= invoice["due_date"]
    assert invoice["invoice_number"] in open_numbers(ledger, paid_on - timedelta(days=1))
    assert invoice["invoice_number"] not in open_numbers(ledger, paid_on)


def test_good_and_late_payers_keep_their_promised_timing(ledger):
    good, late = planned(ledger, "good"), planned(ledger, "late")
    assert (good["paid_on"] <= good["due_date"]).all()
    delay = (late["paid_on"] - late["due_date"]).dt.days
    assert delay.between(5, 40).all()


def test_defaulter_invoice_stays_open_forever(ledger):
    invoice = planned(ledger, "defaulter").iloc[0]
    issued = invoice["issue_date"].date()
    for day in (issued, issued + timedelta(days=100), issued + timedelta(days=400)):
        assert invoice["invoice_number"] in open_numbers(ledger, day)


def test_invoice_is_absent_before_it_is_issued(ledger):
    invoice = ledger.invoices[ledger.invoices["issue_date"] > pd.Timestamp(START)].iloc[0]
    issued = invoice["issue_date"].date()
    assert invoice["invoice_number"] not in open_numbers(ledger, issued - timedelta(days=1))
    assert invoice["invoice_number"] in open_numbers(ledger, issued)


def test_partial_payment_lowers_the_open_amount(ledger):
    invoice = planned(ledger, "partial").iloc[0]
    paid_on = invoice["paid_on"].date()
    before = ledger.snapshot(paid_on - timedelta(days=1))[1].set_index("invoice_number")
    after = ledger.snapshot(paid_on)[1].set_index("invoice_number")
    number = invoice["invoice_number"]
    amount = invoice["amount_cents"] / 100
    assert before.at[number, "open_amount"] == amount
    assert after.at[number, "open_amount"] == pytest.approx(amount - invoice["paid_cents"] / 100)
    assert 0 < after.at[number, "open_amount"] < amount


def test_debtor_in_collective_proceedings_pays_nothing(ledger):
    special = ledger.debtors[
        ledger.debtors["collective_proceedings_since"].notna() | (ledger.debtors["blocked"] == "yes")
    ]
    theirs = ledger.invoices[ledger.invoices["account"].isin(special["account"])]
    assert (special["kind"] == "B2B").all()
    assert len(theirs) > 0 and theirs["paid_on"].isna().all()
    overdue = ledger.snapshot(START)[1]
    overdue = overdue[overdue["due_date"] < pd.Timestamp(START)]
    assert set(special["account"]) <= set(overdue["account"])


def test_payments_between_explain_what_left_the_snapshot(ledger):
    d1, d2 = START, START + timedelta(days=7)
    before, after = ledger.snapshot(d1)[1], ledger.snapshot(d2)[1]
    settled = set(before["invoice_number"]) - set(after["invoice_number"])
    payments = ledger.payments_between(d1, d2)
    assert settled
    assert set(payments.loc[payments["settled"], "invoice_number"]) >= settled
    assert payments["paid_on"].between(pd.Timestamp(d1 + timedelta(days=1)), pd.Timestamp(d2)).all()
    assert (payments["amount"] > 0).all()


def read_export(path, style: str, which: str) -> pd.DataFrame:
    if style == "fr":
        frame = pd.read_csv(path, sep=";", decimal=",", dtype=TEXT_COLUMNS, encoding="utf-8")
        dates = {"format": "%d/%m/%Y"}
    else:
        frame = pd.read_csv(path, sep=",", dtype=TEXT_COLUMNS, encoding="utf-8")
        dates = {"format": "%Y-%m-%d"}
    for column in DATE_COLUMNS[which]:
        frame[column] = pd.to_datetime(frame[column], **dates).astype("datetime64[us]")
    return frame


@pytest.mark.parametrize("style", ["fr", "iso"])
def test_exports_round_trip_through_pandas(ledger, tmp_path, style):
    day = START + timedelta(days=3)
    paths = ledger.write_exports(day, tmp_path, style=style)
    assert [p.name for p in paths] == ["customers_20260305.csv", "invoices_20260305.csv"]
    customers, invoices = ledger.snapshot(day)
    pd.testing.assert_frame_equal(read_export(paths[0], style, "customers"), customers, check_dtype=False)
    pd.testing.assert_frame_equal(read_export(paths[1], style, "invoices"), invoices, check_dtype=False)


def test_fr_style_is_what_french_software_writes(ledger, tmp_path):
    customers_path, invoices_path = ledger.write_exports(START, tmp_path, style="fr")
    raw = invoices_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    header, first = raw[3:].decode("utf-8").split("\r\n")[:2]
    assert header == ";".join(INVOICE_COLUMNS)
    assert first.split(";")[2].count("/") == 2 and "," in first.split(";")[4]
    assert "é".encode() in customers_path.read_bytes() or "è".encode() in customers_path.read_bytes()


def test_no_bad_rows_unless_asked(ledger, tmp_path):
    _, invoices_path = ledger.write_exports(START, tmp_path, style="iso")
    numbers = pd.read_csv(invoices_path, dtype=str, keep_default_na=False)["invoice_number"]
    assert not set(numbers) & set(BAD_INVOICE_ROWS)


def test_bad_rows_go_into_the_first_export_only(tmp_path):
    ledger = DemoLedger.generate(40, START, seed=3)
    first = ledger.write_exports(START, tmp_path / "d1", style="fr", bad_rows=True)
    second = ledger.write_exports(START + timedelta(days=1), tmp_path / "d2", style="fr", bad_rows=True)

    customers, invoices = (pd.read_csv(p, sep=";", dtype=str, keep_default_na=False) for p in first)
    clean_customers, clean_invoices = ledger.snapshot(START)
    bad = invoices.iloc[len(clean_invoices):]
    assert set(bad["invoice_number"]) == set(BAD_INVOICE_ROWS)
    assert (bad["invoice_number"] == "FBAD-0006").sum() == 2
    assert bad.loc[bad["invoice_number"] == "FBAD-0004", "account"].item() == "411INCONNU"
    assert bad.loc[bad["invoice_number"] == "FBAD-0005", "currency"].item() == "EUX"
    assert bad.loc[bad["invoice_number"] == "FBAD-0001", "amount"].item().startswith("-")
    assert set(customers["account"].iloc[len(clean_customers):]) == set(BAD_CUSTOMER_ROWS)
    assert "B2X" in set(customers["kind"])

    later = pd.read_csv(second[1], sep=";", dtype=str, keep_default_na=False)["invoice_number"]
    assert not set(later) & set(BAD_INVOICE_ROWS)
    assert not set(pd.read_csv(second[0], sep=";", dtype=str)["account"]) & set(BAD_CUSTOMER_ROWS)


def test_every_bad_row_has_a_reason():
    assert len(BAD_INVOICE_ROWS) == 8 and len(BAD_CUSTOMER_ROWS) == 2
    assert all(reason for reason in [*BAD_INVOICE_ROWS.values(), *BAD_CUSTOMER_ROWS.values()])
