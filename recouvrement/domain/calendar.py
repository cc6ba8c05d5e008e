"""French business days: reminders go out on working days only (DESIGN §3).

Public holidays are those of metropolitan France (Code du travail L3133-1),
from the ``holidays`` library; the extra days of Alsace-Moselle and the
overseas departments are not included.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays


@functools.cache
def _french_holidays() -> holidays.HolidayBase:
    # One instance for the process; it fills in years lazily as dates are asked.
    try:
        return _france_alone()
    except Exception:  # another layout of the library: the same calendar, by its registry
        return holidays.country_holidays("FR")


def _france_alone() -> holidays.HolidayBase:
    """The library's French calendar, `country_holidays("FR")` itself, loaded from its own
    module: the registry imports every country's module first, a quarter of a second that
    every command paid (the rerun for one debtor most of all)."""
    import importlib.util
    from pathlib import Path

    path = Path(holidays.__file__).parent / "countries" / "france.py"
    spec = importlib.util.spec_from_file_location("recouvrement.domain._holidays_fr", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FR()


def is_holiday(d: date) -> bool:
    return d in _french_holidays()


def is_business_day(d: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return d.weekday() < 5 and not is_holiday(d)


def next_business_day_on_or_after(d: date) -> date:
    while not is_business_day(d):
        d += timedelta(days=1)
    return d


def previous_business_day_on_or_before(d: date) -> date:
    while not is_business_day(d):
        d -= timedelta(days=1)
    return d


def add_business_days(d: date, n: int) -> date:
    """The n-th business day after d (before d when n < 0); d itself is not counted.

    With n == 0, d is returned unchanged, business day or not.
    """
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d


def today_in(tz_name: str, *, now: datetime | None = None) -> date:
    """The creditor's calendar date in its time zone (Europe/Paris by default upstream).

    ``now`` must be timezone-aware; it lets callers and tests pin the clock.
    """
    zone = ZoneInfo(tz_name)
    if now is None:
        return datetime.now(zone).date()
    if now.tzinfo is None:
        raise ValueError("today_in: 'now' must be timezone-aware")
    return now.astimezone(zone).date()
