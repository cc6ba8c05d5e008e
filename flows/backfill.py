"""Replay the daily run over a range of days, in order, as the schedule would have."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow

from flows.daily import daily_dunning


@flow(name="backfill", flow_run_name="backfill-{start}-{end}")
def backfill(start: date, end: date) -> list[dict]:
    """One daily run per weekday from `start` to `end` included (the schedule's days)."""
    if end < start:
        raise ValueError(f"backfill: end {end} is before start {start}")
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            summary = daily_dunning(as_of=day)
            days.append({"as_of": day.isoformat(), "sent": len(summary["send"]["sent"]),
                         "failed": len(summary["send"]["failed"]),
                         "litigation": len(summary["litigation"])})
        day += timedelta(days=1)
    return days
