"""French business days (metropolitan public holidays) and the creditor's date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from recouvrement.domain.calendar import (
    add_business_days,
    is_business_day,
    next_business_day_on_or_after,
    today_in,
)


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 7, 13), True),  # Monday before the national day
        (date(2026, 7, 14), False),  # Tuesday, fête nationale
        (date(2026, 7, 15), True),
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),  # Friday, Christmas
        (date(2025, 12, 26), True),  # a holiday in Alsace-Moselle only
        (date(2026, 4, 3), True),  # Good Friday: same
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 5, 14), False),  # Ascension Thursday
        (date(2026, 5, 15), True),
        (date(2026, 5, 25), False),  # Whit Monday
        (date(2026, 11, 20), True),  # Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
    ],
)
def test_is_business_day(day, expected):
    assert is_business_day(day) is expected


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 11, 23), date(2026, 11, 23)),  # already a business day
        (date(2026, 7, 14), date(2026, 7, 15)),
        (date(2026, 7, 11), date(2026, 7, 13)),  # Saturday -> Monday
        (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas Friday -> Monday
        (date(2026, 4, 4), date(2026, 4, 7)),  # Saturday, Sunday, Easter Monday
        (date(2026, 5, 14), date(2026, 5, 15)),
        (date(2026, 12, 31), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 4)),  # New Year's Friday -> Monday
    ],
)
def test_next_business_day_on_or_after(day, expected):
    assert next_business_day_on_or_after(day) == expected


@pytest.mark.parametrize(
    "day, n, expected",
    [
        (date(2026, 7, 13), 1, date(2026, 7, 15)),  # skips 14 July
        (date(2026, 12, 24), 1, date(2026, 12, 28)),
        (date(2026, 5, 13), 1, date(2026, 5, 15)),
        (date(2026, 4, 2), 2, date(2026, 4, 7)),
        (date(2026, 11, 21), 0, date(2026, 11, 21)),
        (date(2026, 7, 15), -1, date(2026, 7, 13)),
    ],
)
def test_add_business_days(day, n, expected):
    assert add_business_days(day, n) == expected


@pytest.mark.parametrize(
    "tz_name, expected",
    [
        ("Europe/Paris", date(2026, 1, 1)),  # 00:30 in Paris
        ("UTC", date(2025, 12, 31)),
        ("America/Martinique", date(2025, 12, 31)),
    ],
)
def test_today_in_is_the_creditors_date(tz_name, expected):
    now = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert today_in(tz_name, now=now) == expected


def test_today_in_refuses_a_naive_clock_and_reads_the_real_one():
    with pytest.raises(ValueError, match="timezone-aware"):
        today_in("Europe/Paris", now=datetime(2026, 1, 1, 12, 0))
    assert isinstance(today_in("Europe/Paris"), date)


def test_the_french_calendar_loaded_alone_is_the_librarys_own():
    """`_france_alone` skips the registry (which imports every country): the same holidays,
    day by day, as `holidays.country_holidays("FR")` from 1990 to 2059."""
    import holidays

    from recouvrement.domain.calendar import _france_alone

    alone, registry = _france_alone(), holidays.country_holidays("FR")
    days = [date(1990, 1, 1) + timedelta(days=n) for n in range((date(2060, 1, 1)
                                                                 - date(1990, 1, 1)).days)]
    assert [d for d in days if d in alone] == [d for d in days if d in registry]
    assert alone.get(date(2026, 7, 14)) == registry.get(date(2026, 7, 14))


def test_the_calendar_falls_back_on_the_registry(monkeypatch):
    from recouvrement.domain import calendar

    def moved():
        raise FileNotFoundError("holidays/countries/france.py")

    monkeypatch.setattr(calendar, "_france_alone", moved)
    calendar._french_holidays.cache_clear()
    try:
        assert calendar.is_holiday(date(2026, 7, 14)) and not calendar.is_holiday(date(2026, 7, 15))
    finally:
        calendar._french_holidays.cache_clear()
