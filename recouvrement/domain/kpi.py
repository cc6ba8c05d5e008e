"""The credit manager's figures, as functions of plain values (no database, no I/O).

Each function states its definition: the report prints the same words beside
the figure, so a reader can check it by hand.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

# The aged balance's columns (balance âgée), by days past the due date.
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")
ZERO = Decimal("0.00")


def aging_bucket(days_past_due: int) -> str:
    """`not_due` up to the due date itself, then 1–30, 31–60, 61–90 and over 90 days late.

    A boundary belongs to the lower bucket: exactly 30 days late is "1-30".
    """
    if days_past_due <= 0:
        return "not_due"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def aged_balance(items: Iterable[tuple[str, date, Decimal]], day: date) -> dict[str, dict[str, Decimal]]:
    """Open amounts per group and bucket on `day`, from (group, due date, open amount) items."""
    table: dict[str, dict[str, Decimal]] = {}
    for group, due, amount in items:
        if amount <= 0:
            continue
        row = table.setdefault(group, {bucket: ZERO for bucket in BUCKETS})
        row[aging_bucket((day - due).days)] += amount
    return table


def month_back(day: date, months: int = 1) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter).

    The last day of a month goes back to the last day of the earlier month.
    """
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def month_windows(day: date, count: int) -> list[tuple[date, date]]:
    """`count` rolling months ending on `day`, most recent first: (first day, last day) inclusive.

    Month k runs from the day after `day` − k months to `day` − (k − 1) months:
    for 31 March, 1–31 March, then 1–28 February, then 1–31 January.
    """
    ends = [month_back(day, k) for k in range(count + 1)]
    return [(ends[k + 1] + timedelta(days=1), ends[k]) for k in range(count)]


def countback_dso(receivables: Decimal, sales: Sequence[tuple[int, Decimal]]) -> Decimal | None:
    """Days sales outstanding by the countback method.

    `sales` lists (days in the period, sales of the period), most recent period
    first. The receivables are set against each period's sales in turn: a
    period wholly absorbed counts all its days; the last one counts the share of
    its days that the rest of the receivables represents. Receivables larger
    than every period's sales count every day listed (the figure is then a floor).
    None when there are no receivables to explain and no sales.
    """
    if receivables <= 0:
        return Decimal("0.0") if sales else None
    left, days = receivables, Decimal(0)
    for period_days, period_sales in sales:
        if period_sales <= 0:
            days += period_days
            continue
        if left > period_sales:
            left -= period_sales
            days += period_days
            continue
        days += Decimal(period_days) * left / period_sales
        return days.quantize(Decimal("0.1"), ROUND_HALF_UP)
    return days.quantize(Decimal("0.1"), ROUND_HALF_UP)


def collection_effectiveness(opening: Decimal, sales: Decimal, closing: Decimal,
                             closing_current: Decimal) -> Decimal | None:
    """CEI in percent: what was collected of what could have been collected in the period.

    (opening receivables + sales − closing receivables)
    / (opening receivables + sales − closing receivables not yet due) × 100.
    None when nothing could have been collected.
    """
    collectible = opening + sales - closing_current
    if collectible <= 0:
        return None
    return ((opening + sales - closing) * 100 / collectible).quantize(Decimal("0.1"), ROUND_HALF_UP)


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal; None for an empty whole."""
    if whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Trend:
    """A least-squares line through weekly values: its change per week."""

    per_week: Decimal
    first: Decimal
    last: Decimal

    def at(self, index: int) -> Decimal:
        return self.first + self.per_week * index


def weekly_trend(values: Sequence[Decimal | None]) -> Trend | None:
    """The least-squares line through the known values (index = week number)."""
    points = [(i, Decimal(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    n = Decimal(len(points))
    mean_x = sum(Decimal(x) for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((Decimal(x) - mean_x) ** 2 for x, _ in points)
    slope = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in points) / spread
    intercept = mean_y - slope * mean_x
    q = Decimal("0.01")
    return Trend(per_week=slope.quantize(q, ROUND_HALF_UP), first=intercept.quantize(q, ROUND_HALF_UP),
                 last=(intercept + slope * (len(values) - 1)).quantize(q, ROUND_HALF_UP))


def week_ends(start: date, end: date) -> list[date]:
    """The Sundays from `start` to `end`, and `end` itself when it is not one."""
    first = start + timedelta(days=(6 - start.weekday()) % 7)
    days = [first + timedelta(weeks=k) for k in range((end - first).days // 7 + 1)] if first <= end else []
    if not days or days[-1] != end:
        days.append(end)
    return days


def months_between(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar months from the one holding `start` to the one holding `end`, the last cut at `end`."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        first = date(year, month, 1)
        last = min(date(year, month, calendar.monthrange(year, month)[1]), end)
        months.append((first, last))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
