"""Late interest, fixed fee, recommended procedure and limitation (DESIGN §2)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.legal import (
    fixed_recovery_fee,
    late_interest,
    limitation_date,
    limitation_status,
    recommend_procedure,
)
from recouvrement.domain.model import Debtor, DebtorKind, Procedure
from recouvrement.domain.rates import load_rates

B2B, B2C, PUBLIC = DebtorKind.B2B, DebtorKind.B2C, DebtorKind.PUBLIC


# --- late interest: hand-computed examples ---------------------------------


def test_b2b_worked_example_one_period():
    # Due 2026-10-07, interest from 2026-10-08 to 2026-11-22: 24 + 22 = 46 days.
    # H2 2026: ECB 2.15 + 10 = 12.15 %.
    # 1200 x 0.1215 x 46 / 365 = 6706.8 / 365 = 18.37479... -> 18.37
    st = late_interest(Decimal("1200.00"), B2B, date(2026, 10, 7), date(2026, 11, 22))
    assert st.total == Decimal("18.37")
    (period,) = st.periods
    assert (period.start, period.end, period.days, period.year_days) == (
        date(2026, 10, 8),
        date(2026, 11, 22),
        46,
        365,
    )
    assert period.rate == Decimal("12.15")
    # The ECB rate on 1 July 2026 is not recorded yet: said, not hidden.
    assert st.provisional
    assert any("2026-H2" in note and "provisional" in note for note in st.notes)


def test_b2b_crossing_30_june_2025_uses_two_rates_and_rounds_once():
    # Due 2025-06-15. H1: 16..30 June = 15 days at 3.15 + 10 = 13.15 %;
    # H2: 1..20 July = 20 days at 2.15 + 10 = 12.15 %.
    # 2000 x 0.1315 x 15/365 = 3945/365 = 10.808219...
    # 2000 x 0.1215 x 20/365 = 4860/365 = 13.315068...
    # total 8805/365 = 24.123287... -> 24.12 (rounding each period would give 24.13)
    st = late_interest(Decimal("2000.00"), B2B, date(2025, 6, 15), date(2025, 7, 20))
    assert [(p.start, p.end, p.days, p.rate) for p in st.periods] == [
        (date(2025, 6, 16), date(2025, 6, 30), 15, Decimal("13.15")),
        (date(2025, 7, 1), date(2025, 7, 20), 20, Decimal("12.15")),
    ]
    assert st.total == Decimal("24.12")
    assert not st.provisional and st.notes == ()


def test_b2b_crossing_the_2024_year_end_switches_from_366_to_365_days():
    # Due 2024-12-20. 2024: 21..31 Dec = 11 days at 4.25 + 10 = 14.25 %, leap year;
    # 2025: 1..10 Jan = 10 days at 3.15 + 10 = 13.15 %, 365 days.
    # 5000 x 0.1425 x 11/366 = 7837.5/366 = 21.413934...
    # 5000 x 0.1315 x 10/365 = 6575/365  = 18.013698...
    # total 39.427633... -> 39.43
    st = late_interest(Decimal("5000.00"), B2B, date(2024, 12, 20), date(2025, 1, 10))
    assert [(p.days, p.year_days, p.rate) for p in st.periods] == [
        (11, 366, Decimal("14.25")),
        (10, 365, Decimal("13.15")),
    ]
    assert st.total == Decimal("39.43")


def test_public_debtor_pays_ecb_plus_8():
    # Due 2025-01-31, 1 Feb..2 Mar 2025 = 28 + 2 = 30 days at 3.15 + 8 = 11.15 %.
    # 3650 x 0.1115 x 30 / 365 = 12209.25 / 365 = 33.45 exactly
    st = late_interest(Decimal("3650.00"), PUBLIC, date(2025, 1, 31), date(2025, 3, 2))
    assert st.total == Decimal("33.45")


def test_b2b_interest_runs_from_the_due_date_whatever_the_notice():
    with_notice = late_interest(
        Decimal("1000.00"), B2B, date(2025, 9, 30), date(2025, 10, 30),
        formal_notice_on=date(2025, 10, 20),
    )
    assert with_notice.start == date(2025, 10, 1)
    assert with_notice.periods[0].days == 30


@pytest.mark.parametrize("until", [date(2025, 9, 30), date(2025, 9, 1)])
def test_no_interest_on_or_before_the_due_date(until):
    st = late_interest(Decimal("1000.00"), B2B, date(2025, 9, 30), until)
    assert st.periods == ()
    assert st.total == Decimal("0.00")


# --- B2C: only from the formal notice (Code civil 1231-6, 1344-1) ----------


def test_b2c_without_formal_notice_bears_no_interest_and_says_why():
    st = late_interest(Decimal("1000.00"), B2C, date(2025, 3, 1), date(2025, 12, 31))
    assert st.total == Decimal("0.00")
    assert st.periods == ()
    assert any("1231-6" in note for note in st.notes)


def test_b2c_interest_runs_from_the_day_after_the_formal_notice():
    # Due 2025-03-01, notice 2025-05-01: 2..31 May = 30 days at taux légal 3.71 %.
    # 1000 x 0.0371 x 30 / 365 = 1113 / 365 = 3.049315... -> 3.05
    st = late_interest(
        Decimal("1000.00"), B2C, date(2025, 3, 1), date(2025, 5, 31),
        formal_notice_on=date(2025, 5, 1),
    )
    assert st.start == date(2025, 5, 2)
    assert [(p.days, p.rate) for p in st.periods] == [(30, Decimal("3.71"))]
    assert st.total == Decimal("3.05")


def test_b2c_notice_before_the_due_date_counts_from_the_due_date():
    st = late_interest(
        Decimal("1000.00"), B2C, date(2025, 3, 1), date(2025, 3, 31),
        formal_notice_on=date(2025, 2, 15),
    )
    assert st.start == date(2025, 3, 2)
    assert st.periods[0].days == 30
    assert st.notes


# --- contractual rate (L441-10: at least 3 x taux légal) -------------------


@pytest.mark.parametrize("rate", ["8.27", "0"])
def test_contractual_rate_below_three_times_legal_rate_is_floored_with_a_note(rate):
    # 2025-H2 taux légal 2.76 % -> minimum 8.28 %, applied instead of the clause:
    # 1000 x 8.28 % x 30/365 = 6.8055 -> 6.81. The run goes on (no error).
    st = late_interest(
        Decimal("1000.00"), B2B, date(2025, 9, 30), date(2025, 10, 30),
        contractual_rate=Decimal(rate),
    )
    assert [p.rate for p in st.periods] == [Decimal("8.28")]
    assert st.total == Decimal("6.81")
    assert any("below the legal minimum for 2025-H2" in n and "8.28" in n for n in st.notes)


def test_contractual_rate_replaces_the_default():
    # 1000 x 0.09 x 30 / 365 = 2700 / 365 = 7.397260... -> 7.40
    st = late_interest(
        Decimal("1000.00"), B2B, date(2025, 9, 30), date(2025, 10, 30),
        contractual_rate=Decimal("9.00"),
    )
    assert st.periods[0].rate == Decimal("9.00")
    assert st.total == Decimal("7.40")


# --- fixed recovery fee ----------------------------------------------------


@pytest.mark.parametrize(
    "kind, count, collective, expected",
    [
        (B2B, 1, False, "40.00"),
        (B2B, 3, False, "120.00"),
        (PUBLIC, 2, False, "80.00"),
        (B2C, 3, False, "0.00"),
        (B2B, 3, True, "0.00"),
        (PUBLIC, 2, True, "0.00"),
        (B2B, 0, False, "0.00"),
    ],
)
def test_fixed_recovery_fee(kind, count, collective, expected):
    assert fixed_recovery_fee(kind, count, collective_proceedings=collective) == Decimal(expected)


def test_fixed_recovery_fee_amount_comes_from_the_tables():
    tables = dataclasses.replace(load_rates(), fixed_recovery_fee=Decimal("50.00"))
    fee = fixed_recovery_fee(B2B, 2, collective_proceedings=False, rates=tables)
    assert fee == Decimal("100.00")


def test_fixed_recovery_fee_refuses_a_negative_count():
    with pytest.raises(ValueError):
        fixed_recovery_fee(B2B, -1, collective_proceedings=False)


# --- recommended procedure -------------------------------------------------


IN_PROCEEDINGS = date(2026, 3, 2)


def debtor(kind=B2B, since=None) -> Debtor:
    # A B2B debtor here is a commercial company (SAS, a trader by its form): the court
    # for a debtor whose form does not say is tested in test_courts.py.
    return Debtor(account="411DUP", name="Dupont", kind=kind, collective_proceedings_since=since,
                  legal_form="SAS")


@pytest.mark.parametrize(
    "who, total, trader, procedure, must_mention",
    [
        (debtor(since=IN_PROCEEDINGS), "100", True, Procedure.DECLARATION_DE_CREANCE, "2 months"),
        (debtor(since=IN_PROCEEDINGS), "90000", True, Procedure.DECLARATION_DE_CREANCE, "L622-24"),
        (debtor(PUBLIC), "100.00", True, Procedure.REFERE_PROVISION, "No injonction de payer"),
        (debtor(PUBLIC), "90000.00", True, Procedure.REFERE_PROVISION, "référé-provision"),
        (debtor(), "5000.00", True, Procedure.PETITES_CREANCES, "750-1"),
        (debtor(B2C), "120.00", True, Procedure.PETITES_CREANCES, "L125-1"),
        (debtor(), "5000.01", True, Procedure.INJONCTION_DE_PAYER, "tribunal de commerce"),
        (debtor(), "5000.01", False, Procedure.INJONCTION_DE_PAYER, "tribunal judiciaire"),
        (debtor(B2C), "9000.00", True, Procedure.INJONCTION_DE_PAYER, "12948"),
    ],
)
def test_recommend_procedure(who, total, trader, procedure, must_mention):
    got, reasons = recommend_procedure(who, Decimal(total), creditor_is_trader=trader)
    assert got is procedure
    assert reasons
    assert any(must_mention in reason for reason in reasons)


def test_injonction_between_traders_names_the_commercial_form():
    _, reasons = recommend_procedure(debtor(), Decimal("7000.00"))
    assert "12946" in reasons[0] and "12948" not in reasons[0]


# --- limitation ------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, start, expected",
    [
        (B2B, date(2021, 3, 15), date(2026, 3, 15)),  # 5 years, C. com. L110-4
        (B2C, date(2024, 3, 15), date(2026, 3, 15)),  # 2 years, C. conso. L218-2
        (B2C, date(2024, 2, 29), date(2026, 2, 28)),  # no 29 Feb: end of month
        (PUBLIC, date(2024, 3, 15), date(2028, 12, 31)),  # 4 years from 1 Jan 2025
        (PUBLIC, date(2024, 12, 31), date(2028, 12, 31)),
    ],
)
def test_limitation_date(kind, start, expected):
    assert limitation_date(kind, start) == expected


@pytest.mark.parametrize(
    "today, status",
    [
        (date(2025, 12, 14), "ok"),  # 91 days before 2026-03-15
        (date(2025, 12, 15), "urgent"),  # 90 days before
        (date(2026, 3, 15), "urgent"),  # last day to act
        (date(2026, 3, 16), "prescribed"),
    ],
)
def test_limitation_status(today, status):
    assert limitation_status(B2B, date(2021, 3, 15), today) == status
