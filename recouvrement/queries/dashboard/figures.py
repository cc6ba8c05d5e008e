"""Every figure of the report, computed from the ledger's history as of one day.

Amounts are euros (invoices in another currency are counted apart, never
converted). The result is plain data — Decimals, dates, lists — that the
charts, the HTML page, the JSON output and the Prefect artifact all read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from recouvrement.queries.dashboard.history import LedgerHistory, euros, read_history
from recouvrement.domain import kpi
from recouvrement.domain.legal import limitation_date, limitation_start, limitation_status
from recouvrement.domain.model import Debtor as DomainDebtor
from recouvrement.domain.model import DebtorKind
from recouvrement.domain.policy import Policy

ZERO = Decimal("0.00")
RECOVERY_WINDOW_DAYS = 15  # a level "recovers" what is paid within 15 days of it
DSO_MONTHS = 12  # the countback looks back at most a year
TOP_DEBTORS = 20
LITIGATION_STAGES = ("queued", "exported", "with_bailiff", "with_lawyer", "closed")


def _sum(values) -> Decimal:
    return sum((Decimal(v) for v in values), ZERO)


def compute_report(session: Session, policy: Policy, *, as_of: date, start: date) -> dict[str, Any]:
    """The whole report for the period `start`..`as_of`."""
    everything = read_history(session)
    currency = everything.invoices["currency"]
    euro = currency.isin([c for c in pd.unique(currency) if isinstance(c, str) and c.upper() == "EUR"])
    other_open = int((everything.invoices.loc[~euro, "current_c"] > 0).sum())
    history = everything.restricted(euro)
    del everything, currency, euro  # the frame of every currency, when history is a copy
    inv = history.invoices.assign(open=history.open_on(as_of))
    sales = _Sales(history)
    weeks = kpi.week_ends(start, as_of)
    dso_series = [{"day": day, "dso": _dso(history, sales, day)} for day in weeks]
    trend = kpi.weekly_trend([p["dso"] for p in dso_series])
    aged = _aged(inv, policy, as_of)
    live = inv["open"] > 0
    late = live & (pd.to_datetime(inv["due_date"]) < pd.Timestamp(as_of))
    overdue, receivables = euros(inv.loc[late, "open"].sum()), euros(inv.loc[live, "open"].sum())
    cei = _cei_by_month(history, sales, start, as_of)
    # The headline's CEI is the last whole month's: a month two days old says little.
    whole = [m for m in cei if m["complete"]]
    headline_cei = whole[-1] if whole else (cei[-1] if cei else None)
    return {
        "as_of": as_of, "start": start,
        "headline": {
            "receivables": receivables, "overdue": overdue,
            "overdue_share": kpi.share(overdue, receivables),
            "open_invoices": int(live.sum()),
            "debtors": int(inv.loc[live, "account"].nunique()),
            "dso": dso_series[-1]["dso"] if dso_series else None,
            "dso_trend_per_week": trend.per_week if trend else None,
            "cei_last_month": headline_cei["cei"] if headline_cei else None,
            "cei_month": headline_cei["month"] if headline_cei else None,
            "other_currencies": other_open,
        },
        "aged_balance": aged,
        "dso": {"points": dso_series, "trend": trend},
        "cei": cei,
        "recovery": _recovery(history, start, as_of),
        "promises": _promises(history, inv, start, as_of),
        "plans": _plans(history, start, as_of),
        "disputes": _disputes(history, inv, as_of),
        "litigation": _litigation(history, as_of),
        "top_debtors": _top_debtors(inv, as_of),
        "prescriptions": _prescriptions(inv, as_of),
    }


class _Sales:
    """What was invoiced between two days, from the invoices sorted once by issue date."""

    def __init__(self, history: LedgerHistory) -> None:
        issued = history.invoices["issue_date"].to_numpy()
        order = np.argsort(issued, kind="stable")
        self._dates = issued[order]
        self._running = np.concatenate(
            [[0], np.cumsum(history.invoices["amount_c"].to_numpy()[order])])

    def between(self, first: date, last: date) -> Decimal:
        low = np.searchsorted(self._dates, np.datetime64(first, "us"), side="left")
        high = np.searchsorted(self._dates, np.datetime64(last, "us"), side="right")
        return euros(self._running[high] - self._running[low])


def _dso(history: LedgerHistory, sales: _Sales, day: date) -> Decimal | None:
    """Countback DSO on `day`: the receivables explained by the latest months' sales."""
    owed = history.open_on(day)
    receivables = euros(owed[owed > 0].sum())
    return kpi.countback_dso(receivables, [((last - first).days + 1, sales.between(first, last))
                                           for first, last in kpi.month_windows(day, DSO_MONTHS)])


def _aged(inv: pd.DataFrame, policy: Policy, day: date) -> dict[str, Any]:
    live = (inv["open"] > 0).to_numpy()
    accounts = inv["account"].to_numpy()[live]
    owed = pd.Series(inv["open"].to_numpy()[live]).groupby(accounts).sum()
    segments = {account: _segment(policy, account, kind, risk_class, euros(owed[account]),
                                  None if pd.isna(chance) else float(chance))
                for account, kind, risk_class, chance in
                inv.loc[live, ["account", "kind", "risk_class", "risk_probability"]]
                .drop_duplicates("account").itertuples(index=False)}
    # each invoice's bucket as kpi.aging_bucket puts it, from the days it is late
    due = pd.to_datetime(inv["due_date"]).to_numpy()[live]
    late = (np.datetime64(day, "us") - due.astype("datetime64[us]")) // np.timedelta64(1, "D")
    days, inverse = np.unique(late, return_inverse=True)
    buckets = np.array([kpi.BUCKETS.index(kpi.aging_bucket(int(d))) for d in days],
                       dtype=np.int64)[inverse]
    amounts = inv["open"].to_numpy()[live]
    by_kind = _aged_balance(inv["kind"].to_numpy()[live], buckets, amounts)
    by_segment = _aged_balance(pd.Series(accounts).map(segments).to_numpy(), buckets, amounts)
    total = _aged_balance(np.zeros(len(amounts), dtype=np.int64), buckets, amounts, ["all"])
    return {"buckets": kpi.BUCKETS, "by_kind": by_kind, "by_segment": by_segment,
            "total": total.get("all", {b: ZERO for b in kpi.BUCKETS})}


def _aged_balance(groups, buckets: np.ndarray, amounts: np.ndarray,
                  names=None) -> dict[str, dict[str, Decimal]]:
    """`kpi.aged_balance` of (group, bucket index, open cents) items, summed in integer
    cents: the same table (the groups in the order they first come, each bucket's exact
    sum in euros) without a Decimal for every invoice. `names`: the groups' names when
    `groups` are already their codes."""
    positive = amounts > 0
    if names is None:
        codes, names = pd.factorize(groups[positive], use_na_sentinel=False)
    else:
        codes = groups[positive]
    sums = np.zeros((len(names), len(kpi.BUCKETS)), dtype=np.int64)
    np.add.at(sums, (codes, buckets[positive]), amounts[positive].astype(np.int64))
    seen = np.zeros(len(names), dtype=bool)
    seen[codes] = True
    return {names[g]: {bucket: euros(sums[g, b]) if sums[g, b] else ZERO
                       for b, bucket in enumerate(kpi.BUCKETS)}
            for g in range(len(names)) if seen[g]}


def _segment(policy: Policy, account: str, kind: str, risk_class: str | None,
             owed: Decimal, risk_probability: float | None = None) -> str:
    """The policy segment a debtor is dunned under today (the base ladder when none)."""
    if account in policy.debtors:
        return "debtor override"
    debtor = DomainDebtor(account=account, name="", kind=DebtorKind(kind), risk_class=risk_class,
                          risk_probability=risk_probability)
    for segment in policy.segments:
        if segment.matches(debtor, owed):
            return segment.name
    return "base"


def _cei_by_month(history: LedgerHistory, sales: _Sales, start: date,
                  as_of: date) -> list[dict[str, Any]]:
    due = pd.to_datetime(history.invoices["due_date"]).to_numpy()
    months = []
    for first, last in kpi.months_between(start, as_of):
        before = history.open_on(first - timedelta(days=1))
        after = history.open_on(last)
        not_due = due > np.datetime64(last, "us")
        opening, closing = euros(before[before > 0].sum()), euros(after[after > 0].sum())
        current = euros(after[(after > 0) & not_due].sum())
        invoiced = sales.between(first, last)
        complete = (last + timedelta(days=1)).day == 1
        months.append({"month": first.strftime("%Y-%m"), "first": first, "last": last,
                       "complete": complete, "opening": opening, "sales": invoiced,
                       "closing": closing, "closing_current": current,
                       "cei": kpi.collection_effectiveness(opening, invoiced, closing, current)})
    return months


def _recovery(history: LedgerHistory, start: date, as_of: date) -> list[dict[str, Any]]:
    """Per level: of what its reminders chased, the share paid within 15 days, and how fast."""
    sent = history.reminders
    cutoff = as_of - timedelta(days=RECOVERY_WINDOW_DAYS)
    sent = sent.loc[(sent["sent_on"] >= start) & (sent["sent_on"] <= cutoff)]
    sent = sent.loc[sent["key"].isin(history.invoices["key"])].reset_index(drop=True)
    rows = []
    if len(sent):
        chased = history.open_at(sent["key"], sent["sent_on"])
        later = history.open_at(sent["key"], [d + timedelta(days=RECOVERY_WINDOW_DAYS)
                                              for d in sent["sent_on"]])
        sent = sent.assign(chased=chased, paid=np.maximum(chased - later, 0))
        settled = history.invoices.set_index("key")["settled_on"]
        sent["settled_on"] = sent["key"].map(settled)
    for level in (1, 2, 3):
        of_level = sent.loc[sent["level"] == level] if len(sent) else sent
        chased_total = euros(of_level["chased"].sum()) if len(of_level) else ZERO
        paid_total = euros(of_level["paid"].sum()) if len(of_level) else ZERO
        waits = [(s - d).days for s, d in zip(of_level.get("settled_on", []), of_level.get("sent_on", []))
                 if isinstance(s, date) and s >= d]
        rows.append({"level": level, "invoices": len(of_level), "chased": chased_total,
                     "recovered": paid_total, "share": kpi.share(paid_total, chased_total),
                     "median_days_to_settle": Decimal(str(median(waits))) if waits else None,
                     "settled": len(waits)})
    return rows


def _promises(history: LedgerHistory, inv: pd.DataFrame, start: date, as_of: date) -> dict[str, int]:
    """A promise is kept when what the debtor owed when it was made is paid by its date."""
    promises = history.promises.loc[(history.promises["created_on"] >= start)
                                    & (history.promises["created_on"] <= as_of)]
    pending = int((promises["until"] >= as_of).sum())
    due = promises.loc[promises["until"] < as_of].reset_index(drop=True)
    due = due.assign(promise=np.arange(len(due)))
    pairs = due.merge(history.invoices[["debtor_id", "key"]], on="debtor_id")
    owed = history.open_at(pairs["key"], pairs["created_on"])
    still = history.open_at(pairs["key"], pairs["until"])
    broken = set(pairs.loc[(owed > 0) & (still > 0), "promise"])
    return {"kept": len(due) - len(broken), "broken": len(broken), "pending": pending}


def _plans(history: LedgerHistory, start: date, as_of: date) -> dict[str, int]:
    counts: Counter = Counter()
    for made, status, status_on in history.plans[["created_on", "status", "status_on"]].itertuples(
            index=False):
        if made > as_of:
            continue
        if status_on is None or status_on > as_of or status == "active":
            counts["on_track"] += 1
        else:
            counts[status] += 1
    return {k: counts[k] for k in ("on_track", "completed", "broken")}


def _disputes(history: LedgerHistory, inv: pd.DataFrame, as_of: date) -> dict[str, Any]:
    opened: dict[str, date] = {}
    for key, is_open, on in history.disputes[["key", "opened", "on"]].itertuples(index=False):
        if on > as_of:
            continue
        if is_open:
            opened[key] = on
        else:
            opened.pop(key, None)
    amounts = pd.Series(inv["open"].to_numpy(), index=inv["key"]).reindex(list(opened),
                                                                          fill_value=0)
    ages = sorted((as_of - on).days for on in opened.values())
    return {"open": len(opened), "amount": euros(sum(int(a) for a in amounts)),
            "median_age_days": Decimal(str(median(ages))) if ages else None,
            "oldest_age_days": ages[-1] if ages else None}


def _litigation(history: LedgerHistory, as_of: date) -> list[dict[str, Any]]:
    stages = {stage: {"stage": stage, "dossiers": 0, "claimed": ZERO, "recovered": ZERO}
              for stage in LITIGATION_STAGES}
    for queued_on, total, moves, paid in history.dossiers[
            ["queued_on", "total", "moves", "paid"]].itertuples(index=False):
        if queued_on > as_of:
            continue
        status = "queued"
        for on, to in moves:
            if on <= as_of:
                status = to
        row = stages.setdefault(status, {"stage": status, "dossiers": 0, "claimed": ZERO,
                                         "recovered": ZERO})
        row["dossiers"] += 1
        row["claimed"] += total
        row["recovered"] += _sum(amount for on, amount in paid if on <= as_of)
    return list(stages.values())


def _top_debtors(inv: pd.DataFrame, as_of: date) -> list[dict[str, Any]]:
    late = inv.loc[(inv["open"] > 0) & (pd.to_datetime(inv["due_date"]) < pd.Timestamp(as_of)),
                   ["account", "open", "due_date", "name", "kind", "risk_class", "risk_score"]]
    by_account = late.groupby("account").agg(
        overdue=("open", "sum"), invoices=("open", "size"), oldest_due=("due_date", "min"),
        name=("name", "first"), kind=("kind", "first"), risk_class=("risk_class", "first"),
        risk_score=("risk_score", "first")).reset_index()
    top = by_account.sort_values(["overdue", "account"], ascending=[False, True]).head(TOP_DEBTORS)
    return [{"account": r.account, "name": r.name, "kind": r.kind, "overdue": euros(r.overdue),
             "invoices": int(r.invoices), "oldest_days": (as_of - r.oldest_due).days,
             "risk_class": None if pd.isna(r.risk_class) else r.risk_class,
             "risk_score": None if pd.isna(r.risk_score) else int(r.risk_score)}
            for r in top.itertuples(index=False)]


def _day(value) -> date:
    """A date from a date, a datetime or a pandas Timestamp."""
    return value.date() if isinstance(value, datetime) else value


def _prescriptions(inv: pd.DataFrame, as_of: date) -> list[dict[str, Any]]:
    """Open invoices whose limitation period ends within 90 days (as the ledger stands).

    The same rule as the daily run's (domain.legal): the limit counted from the
    due date (Code civil 2233), urgent already within 90 days of the earlier
    limit counted from the invoice date. (The reminders that interrupt a public
    debtor's prescription are not in this history: its limit may be later.)
    """
    live = inv.loc[inv["open"] > 0, ["account", "number", "open", "kind", "issue_date",
                                     "due_date", "last_payment_on", "acknowledged_on"]]
    known: dict[tuple[str, date, date], tuple[str, date]] = {}
    rows = []
    for r in live.itertuples(index=False):
        paid = _day(r.last_payment_on) if isinstance(r.last_payment_on, date) else None
        acknowledged = (_day(r.acknowledged_on) if isinstance(r.acknowledged_on, date)
                        else None)
        due, issued = _day(r.due_date), _day(r.issue_date)
        kind = DebtorKind(r.kind)
        start = limitation_start(kind, due, paid_on=paid, acknowledged_on=acknowledged)
        earliest = limitation_start(kind, min(issued, due), paid_on=paid,
                                    acknowledged_on=acknowledged)
        key = (r.kind, start, earliest)
        if key not in known:
            known[key] = (limitation_status(kind, start, as_of, earliest_start=earliest),
                          limitation_date(kind, start))
        status, limit = known[key]
        if status == "urgent":
            rows.append({"account": r.account, "invoice": r.number, "open": euros(r.open),
                         "limit": limit, "days_left": (limit - as_of).days})
    rows.sort(key=lambda r: (r["limit"], r["account"], r["invoice"]))
    return rows
