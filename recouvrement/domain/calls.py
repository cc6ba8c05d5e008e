"""Phone tasks as a collector works them: the order of the worklist, carrying over, outcomes.

A reminder whose channels include `phone` makes one task, due the day it was
planned. A task not worked on its day is carried: it stays on the worklist,
with its age, until a call is logged. What each outcome does to the ladder is
data (`OUTCOMES`), not a branch in the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable, Sequence, TypeVar

OPEN, CARRIED, DONE, CANCELLED = "open", "carried", "done", "cancelled"
TO_WORK = (OPEN, CARRIED)

# outcome -> its effect on the ladder: `log` only, `pause` the debtor until the
# promised date (as `recouvrement promise`), `stop` the invoices disputed (as
# `recouvrement dispute open`: nothing is sent for a disputed invoice).
OUTCOMES: dict[str, str] = {
    "answered": "log",
    "no-answer": "log",
    "voicemail": "log",
    "promise": "pause",
    "dispute": "stop",
}


@dataclass(frozen=True)
class WorkItem:
    """What the worklist orders a task by."""

    account: str
    risk_score: int | None
    open_amount: Decimal


T = TypeVar("T")


def worklist_order(items: Iterable[T], item: Callable[[T], WorkItem]) -> list[T]:
    """Riskiest first, then the largest amount owed, then the account (a stable order);
    `item(row)` says what a row is ordered by.

    A debtor not scored yet comes after every scored one.
    """
    def key(row: T) -> tuple:
        i = item(row)
        return i.risk_score is None, -(i.risk_score or 0), -i.open_amount, i.account

    return sorted(items, key=key)


def age_days(due_on: date, today: date) -> int:
    """Days a task has waited since the day it was due (0 on that day)."""
    return max((today - due_on).days, 0)


def to_carry(status: str, due_on: date, today: date) -> bool:
    """An open task whose day has passed unworked is carried to today."""
    return status == OPEN and due_on < today


def outcome_problem(outcome: str, *, until: date | None, invoices: Sequence[str],
                    today: date) -> str | None:
    """What is wrong with the options of a logged call, in words; None when they fit."""
    if outcome not in OUTCOMES:
        return f"unknown outcome {outcome!r}: one of {', '.join(OUTCOMES)}"
    if OUTCOMES[outcome] == "pause":
        if until is None:
            return "a promise needs --until DATE, the day the debtor promised to pay by"
        if until < today:
            return f"the promised date {until.isoformat()} is already past"
    elif until is not None:
        return f"--until is for a promise, not for {outcome!r}"
    if invoices and OUTCOMES[outcome] != "stop":
        return f"--invoice is for a dispute, not for {outcome!r}"
    return None
