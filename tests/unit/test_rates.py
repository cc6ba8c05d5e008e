"""Rate tables: ECB + margin per half-year, taux légal, provisional fallback."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from importlib.resources import files

import pytest
import yaml

from recouvrement.domain.model import DebtorKind
from recouvrement.domain.rates import RateTables, load_rates, parse_rates


def raw_tables() -> dict:
    text = files("recouvrement.domain").joinpath("rules").joinpath("rates.yaml").read_text(
        encoding="utf-8"
    )
    return yaml.safe_load(text)


def test_load_rates_is_cached_and_dated():
    tables = load_rates()
    assert tables is load_rates()
    assert isinstance(tables, RateTables)
    assert isinstance(tables.checked_on, date)


@pytest.mark.parametrize(
    "day, ecb",
    [
        (date(2024, 1, 1), "4.50"),
        (date(2024, 6, 30), "4.50"),  # the 12 June 2024 cut waits for 1 July
        (date(2024, 7, 1), "4.25"),
        (date(2024, 12, 31), "4.25"),
        (date(2025, 1, 1), "3.15"),
        (date(2025, 6, 30), "3.15"),  # three cuts in H1 2025 do not count
        (date(2025, 7, 1), "2.15"),
        (date(2026, 3, 15), "2.15"),
    ],
)
def test_ecb_rate_is_the_one_in_force_on_1_january_or_1_july(day, ecb):
    assert load_rates().ecb_rate_for_half_year(day) == Decimal(ecb)


@pytest.mark.parametrize(
    "day, b2b, public",
    [
        (date(2024, 3, 1), "14.50", "12.50"),
        (date(2024, 9, 1), "14.25", "12.25"),
        (date(2025, 3, 1), "13.15", "11.15"),
        (date(2025, 9, 1), "12.15", "10.15"),
        (date(2026, 3, 1), "12.15", "10.15"),
    ],
)
def test_late_interest_rate_adds_10_points_b2b_and_8_points_public(day, b2b, public):
    tables = load_rates()
    assert tables.late_interest_rate(DebtorKind.B2B, day) == (Decimal(b2b), False)
    assert tables.late_interest_rate(DebtorKind.PUBLIC, day) == (Decimal(public), False)


@pytest.mark.parametrize(
    "day, legal",
    [
        (date(2024, 1, 1), "5.07"),
        (date(2024, 7, 1), "4.92"),
        (date(2025, 6, 30), "3.71"),
        (date(2025, 7, 1), "2.76"),
        (date(2026, 6, 30), "2.62"),
    ],
)
def test_legal_rate_per_half_year_and_b2c_uses_it(day, legal):
    tables = load_rates()
    assert tables.legal_rate(day) == (Decimal(legal), False)
    assert tables.late_interest_rate(DebtorKind.B2C, day) == (Decimal(legal), False)


@pytest.mark.parametrize("day", [date(2026, 7, 1), date(2027, 2, 1)])
def test_legal_rate_after_the_table_is_the_last_one_flagged_provisional(day):
    assert load_rates().legal_rate(day) == (Decimal("2.62"), True)


def test_legal_rate_before_the_table_is_refused():
    with pytest.raises(ValueError, match="no taux légal recorded for 2020-H2"):
        load_rates().legal_rate(date(2020, 12, 31))


def test_ecb_rate_after_the_complete_date_is_provisional():
    tables = load_rates()
    assert tables.late_interest_rate(DebtorKind.B2B, date(2026, 6, 30)) == (Decimal("12.15"), False)
    assert tables.late_interest_rate(DebtorKind.B2B, date(2026, 7, 1)) == (Decimal("12.15"), True)


def test_ecb_change_effective_on_1_july_applies_to_that_half_year():
    data = raw_tables()
    ecb = data["ecb_main_refinancing_rate"]
    ecb["changes"].append({"effective": date(2026, 7, 1), "rate": "1.90"})
    ecb["complete_through"] = date(2026, 7, 1)
    tables = parse_rates(data)
    assert tables.late_interest_rate(DebtorKind.B2B, date(2026, 7, 1)) == (Decimal("11.90"), False)
    assert tables.ecb_rate_for_half_year(date(2026, 6, 30)) == Decimal("2.15")


def _with_gap(data):
    del data["legal_interest_rate"]["other_cases"]["2024-H2"]


def _with_float(data):
    data["fixed_recovery_fee"]["amount"] = 40.0


def _with_unsorted_ecb(data):
    data["ecb_main_refinancing_rate"]["changes"].reverse()


def _without_public_margin(data):
    del data["late_interest_margin"]["PUBLIC"]


def _without_b2c_limitation(data):
    del data["limitation"]["by_kind"]["B2C"]


@pytest.mark.parametrize(
    "spoil, message",
    [
        (_with_gap, "taux légal missing between 2024-H1 and 2025-H1"),
        (_with_float, "must be a quoted string"),
        (_with_unsorted_ecb, "strictly increasing"),
        (_without_public_margin, "no late-interest margin for PUBLIC"),
        (_without_b2c_limitation, "no limitation rule for B2C"),
    ],
)
def test_parse_rates_refuses_a_broken_table(spoil, message):
    data = copy.deepcopy(raw_tables())
    spoil(data)
    with pytest.raises(ValueError, match=message):
        parse_rates(data)
