"""Replay the daily run over a range of days, in order, as the schedule would have."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow

from flows.daily import daily_dunning


@flow(name="backfill", flow_run_name="backfill-{start}-{end}")
def backfill(start: date, end: date, creditor: str | None = None) -> list[dict]:
    """One daily run per weekday from `start` to `end` included (the schedule's days).

    Agency mode: `creditor`'s ledger only, or without it every active creditor's."""
    if end < start:
        raise ValueError(f"backfill: end {end} is before start {start}")
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            summary = daily_dunning(as_of=day, creditor=creditor)
            runs = ([r["summary"] for r in summary["creditors"].values()]
                    if "creditors" in summary else [summary])
            days.append({"as_of": day.isoformat(),
                         "sent": sum(len(s["send"]["sent"]) for s in runs),
                         "failed": sum(len(s["send"]["failed"]) for s in runs),
                         "litigation": sum(len(s["litigation"]) for s in runs)})
        day += timedelta(days=1)
    return days
