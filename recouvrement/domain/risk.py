"""A first, explainable risk score per debtor (0-100, higher = riskier).

Points come from what the ledger knows, each factor capped so the score can
be read as a sum: how late, how much of the balance is overdue, how much is
at stake, and how often the debtor had to be chased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

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


def score_debtors(invoices: pd.DataFrame, reminders: pd.DataFrame, accounts: list[str],
                  today: date) -> list[RiskScore]:
    """Scores for `accounts`.

    invoices: account, due_date, open_amount (float), one row per open invoice.
    reminders: account, level, sent_on, one row per reminder sent.
    """
    open_ = invoices.copy()
    open_["days_late"] = (pd.Timestamp(today) - pd.to_datetime(open_["due_date"])).dt.days.clip(lower=0)
    open_["overdue"] = open_["open_amount"].where(open_["days_late"] > 0, 0.0)
    per = open_.groupby("account").agg(
        days_past_due=("days_late", "max"), open_amount=("open_amount", "sum"),
        overdue_amount=("overdue", "sum"))
    per["overdue_share"] = (per["overdue_amount"] / per["open_amount"]).where(per["open_amount"] > 0, 0.0)

    recent = reminders[pd.to_datetime(reminders["sent_on"]) > pd.Timestamp(today) - pd.Timedelta(days=365)]
    history = pd.DataFrame({
        "reminders_12m": recent.groupby("account").size(),
        "highest_level": reminders.groupby("account")["level"].max(),
    })
    table = per.join(history, how="outer").reindex(accounts).fillna(0.0)

    scores = []
    for account, row in zip(table.index, table.itertuples(index=False)):
        factors = {}
        for factor in WEIGHTS:
            value = float(getattr(row, factor))
            factors[factor] = {"value": round(value, 2), "points": _points(factor, value)}
        score = int(round(sum(f["points"] for f in factors.values())))
        scores.append(RiskScore(account, score, risk_class(score), factors))
    return scores


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
