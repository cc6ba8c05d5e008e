"""A first, explainable risk score per debtor (0-100, higher = riskier).

Points come from what the ledger knows, each factor capped so the score can
be read as a sum: how late, how much of the balance is overdue, how much is
at stake, and how often the debtor had to be chased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

# factor: (points at most, value that earns them all)
WEIGHTS = {
    "days_past_due": (35, 90),          # the oldest overdue invoice, in days
    "overdue_share": (25, 1.0),         # overdue open amount / open amount
    "overdue_amount": (15, 100_000.0),  # euros overdue, on a log scale
    "reminders_12m": (10, 6),           # reminders sent in the last 365 days
    "highest_level": (15, 3),           # highest ladder level ever sent
}
CLASSES = ((60, "high"), (30, "medium"), (0, "low"))


@dataclass(frozen=True)
class RiskScore:
    account: str
    score: int
    risk_class: str
    factors: dict[str, dict[str, float]]


def risk_class(score: int) -> str:
    return next(name for floor, name in CLASSES if score >= floor)


def _points(factor: str, value: float) -> float:
    cap, full = WEIGHTS[factor]
    if factor == "overdue_amount":
        ratio = math.log10(1 + max(value, 0)) / math.log10(1 + full)
    else:
        ratio = value / full
    return round(cap * min(max(ratio, 0.0), 1.0), 1)


# What is summed (or maxed) per debtor before the factors are computed.
SUMS = ("days_past_due", "open_amount", "overdue_amount", "reminders_12m", "highest_level")


def score_debtors(invoices: Iterable[tuple], reminders: Iterable[tuple], accounts: list[str],
                  today: date) -> list[RiskScore]:
    """Scores for `accounts`, in their order; plain Python, so that a rerun for one
    debtor scores it without loading pandas.

    invoices: (account, due_date, open_amount) for each open invoice.
    reminders: (account, level, sent_on) for each reminder sent.
    """
    wanted = set(accounts)
    per: dict[str, dict[str, float]] = {}
    for account, due, amount in invoices:
        if account not in wanted:
            continue
        row = per.setdefault(account, dict.fromkeys(SUMS, 0.0))
        late = max((today - _day(due)).days, 0)
        row["days_past_due"] = max(row["days_past_due"], float(late))
        row["open_amount"] += float(amount)
        if late > 0:
            row["overdue_amount"] += float(amount)
    year_ago = today - timedelta(days=365)
    for account, level, sent_on in reminders:
        if account not in wanted:
            continue
        row = per.setdefault(account, dict.fromkeys(SUMS, 0.0))
        row["highest_level"] = max(row["highest_level"], float(level))
        if sent_on is not None and _day(sent_on) > year_ago:
            row["reminders_12m"] += 1

    scores = []
    for account in accounts:
        row = per.get(account) or dict.fromkeys(SUMS, 0.0)
        row["overdue_share"] = (row["overdue_amount"] / row["open_amount"]
                                if row["open_amount"] > 0 else 0.0)
        factors = {factor: {"value": round(row[factor], 2), "points": _points(factor, row[factor])}
                   for factor in WEIGHTS}
        score = int(round(sum(f["points"] for f in factors.values())))
        scores.append(RiskScore(account, score, risk_class(score), factors))
    return scores


def _day(value) -> date:
    """A date, from a date or a datetime (a pandas Timestamp is one)."""
    return value.date() if isinstance(value, datetime) else value


RULE_WORDS = {
    "days_past_due": "oldest overdue invoice {value:.0f} days past due",
    "overdue_share": "{value:.0%} of what it owes is overdue",
    "overdue_amount": "{value:.0f} € overdue",
    "reminders_12m": "{value:.0f} reminder(s) sent in the last 12 months",
    "highest_level": "has been sent up to level {value:.0f} of the ladder",
}


def explain_rules(score: RiskScore, top: int = 3) -> list[str]:
    """The factors that earned the most points, in words."""
    earned = sorted(((f["points"], name) for name, f in score.factors.items() if f["points"] > 0),
                    reverse=True)[:top]
    if not earned:
        return ["nothing overdue and no reminder sent"]
    return [RULE_WORDS[name].format(value=score.factors[name]["value"]) for _, name in earned]
