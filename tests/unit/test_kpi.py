"""The report's figures on cases computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from recouvrement.domain import kpi


@pytest.mark.parametrize("days, bucket", [
    (-5, "not_due"), (0, "not_due"),       # the due date itself is not late
    (1, "1-30"), (30, "1-30"),             # exactly 30 days late: still 1–30
    (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+"),
])
def test_bucket_boundaries(days, bucket):
    assert kpi.aging_bucket(days) == bucket


def test_aged_balance_sums_per_group_and_bucket_and_ignores_what_is_not_owed():
    day = date(2026, 11, 30)
    items = [("B2B", date(2026, 10, 31), D("100.00")),   # 30 days late -> 1-30
             ("B2B", date(2026, 10, 30), D("50.00")),    # 31 days -> 31-60
             ("B2B", date(2026, 12, 15), D("20.00")),    # not yet due
             ("B2C", date(2026, 8, 1), D("10.00")),      # 121 days -> 90+
             ("B2C", date(2026, 8, 1), D("0.00"))]       # paid: not in the balance
    table = kpi.aged_balance(items, day)
    assert table["B2B"] == {"not_due": D("20.00"), "1-30": D("100.00"), "31-60": D("50.00"),
                            "61-90": D("0.00"), "90+": D("0.00")}
    assert table["B2C"]["90+"] == D("10.00") and sum(table["B2C"].values()) == D("10.00")


@pytest.mark.parametrize("day, windows", [
    # month ends stay month ends: March, February, January
    (date(2026, 3, 31), [(date(2026, 3, 1), date(2026, 3, 31)),
                         (date(2026, 2, 1), date(2026, 2, 28)),
                         (date(2026, 1, 1), date(2026, 1, 31))]),
    # mid-month: 16 Feb - 15 Mar (28 days), 16 Jan - 15 Feb (31 days)
    (date(2026, 3, 15), [(date(2026, 2, 16), date(2026, 3, 15)),
                         (date(2026, 1, 16), date(2026, 2, 15))]),
])
def test_rolling_month_windows(day, windows):
    assert kpi.month_windows(day, len(windows)) == windows


def test_countback_dso_on_three_months():
    # Receivables 25,000 on 31 March; sales March 10,000 (31 days), February
    # 12,000 (28 days), January 9,000 (31 days).
    # 25,000 - 10,000 = 15,000 left: all of March, 31 days
    # 15,000 - 12,000 = 3,000 left: all of February, 31 + 28 = 59 days
    # 3,000 / 9,000 of January's 31 days = 10.33: 69.33 -> 69.3 days
    sales = [(31, D("10000")), (28, D("12000")), (31, D("9000"))]
    assert kpi.countback_dso(D("25000"), sales) == D("69.3")


def test_countback_dso_within_the_first_month_and_edge_cases():
    # 5,000 of receivables against 10,000 of sales in a 30-day month: 15 days
    assert kpi.countback_dso(D("5000"), [(30, D("10000"))]) == D("15.0")
    # nothing owed: 0 days; nothing owed and no sales: nothing to say
    assert kpi.countback_dso(D("0"), [(30, D("10000"))]) == D("0.0")
    assert kpi.countback_dso(D("0"), []) is None
    # a month without sales counts all its days; more owed than every sale: all the days
    assert kpi.countback_dso(D("100"), [(31, D("0")), (30, D("50"))]) == D("61.0")


def test_collection_effectiveness_on_one_month():
    # opening 50,000 + invoiced 30,000 - closing 45,000 = 35,000 collected,
    # out of 50,000 + 30,000 - 20,000 not yet due = 60,000 collectable:
    # 35,000 / 60,000 = 58.33 % -> 58.3
    assert kpi.collection_effectiveness(D("50000"), D("30000"), D("45000"), D("20000")) == D("58.3")
    # everything collected: 100 %
    assert kpi.collection_effectiveness(D("1000"), D("0"), D("0"), D("0")) == D("100.0")
    assert kpi.collection_effectiveness(D("0"), D("0"), D("0"), D("0")) is None


def test_weekly_trend_is_the_least_squares_slope():
    # 40, 42, 44, 46: two days more every week, exactly on the line
    trend = kpi.weekly_trend([D("40"), D("42"), D("44"), D("46")])
    assert (trend.per_week, trend.first, trend.last) == (D("2.00"), D("40.00"), D("46.00"))
    # a missing week is left out of the fit, not read as zero
    assert kpi.weekly_trend([D("10"), None, D("14")]).per_week == D("2.00")
    assert kpi.weekly_trend([D("10")]) is None


def test_week_ends_and_calendar_months():
    assert kpi.week_ends(date(2026, 11, 4), date(2026, 11, 18)) == [
        date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 18)]
    assert kpi.months_between(date(2026, 10, 20), date(2026, 12, 2)) == [
        (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 2))]
