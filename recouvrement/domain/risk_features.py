"""What a debtor's history says about it, as of a day, for every debtor at once.

The ledger is read as plain frames (`RiskLedger`); `history_features` keeps
only what was known on the day asked for (invoices issued, payments and
reminders seen, dossiers queued, promises and plans due, disputes opened on or
before it) and sums it up per debtor: how late past invoices were paid, at
which step of the ladder, what the last few did, broken promises and plans,
disputes, tenure, exposure, kind and collective proceedings. Everything is
grouped in pandas: no Python loop over debtors or invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

LAST_N = 4  # "the last N invoices": how many of the most recent closed ones are read


def _frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


DEBTOR_COLUMNS = {"account": "str", "kind": "str", "collective_proceedings_since": "datetime64[us]"}
INVOICE_COLUMNS = {"account": "str", "number": "str", "issue_date": "datetime64[us]",
                   "due_date": "datetime64[us]", "amount": "float", "open_amount": "float",
                   "settled_on": "datetime64[us]", "last_payment_on": "datetime64[us]"}
REMINDER_COLUMNS = {"account": "str", "number": "str", "level": "int", "sent_on": "datetime64[us]"}
DOSSIER_COLUMNS = {"account": "str", "number": "str", "queued_on": "datetime64[us]"}
PROMISE_COLUMNS = {"account": "str", "created_on": "datetime64[us]", "until": "datetime64[us]"}
PLAN_COLUMNS = {"account": "str", "created_on": "datetime64[us]", "status": "str",
                "status_on": "datetime64[us]"}
DISPUTE_COLUMNS = {"account": "str", "opened_on": "datetime64[us]"}


@dataclass(frozen=True)
class RiskLedger:
    """The ledger's history as frames, one row per fact, dates as datetime64.

    invoices: one row per invoice ever issued (credit notes left out);
    `settled_on` is the day it was seen paid (NaT while open), `open_amount`
    what is owed today. reminders: one row per invoice and level of a sent
    reminder. dossiers: one row per invoice queued for litigation.
    """

    debtors: pd.DataFrame
    invoices: pd.DataFrame
    reminders: pd.DataFrame
    dossiers: pd.DataFrame
    promises: pd.DataFrame
    plans: pd.DataFrame
    disputes: pd.DataFrame

    def last_day(self) -> date | None:
        """The latest day any fact of the ledger is dated: nothing after it is known."""
        days = [self.invoices["issue_date"].max(), self.invoices["settled_on"].max(),
                self.reminders["sent_on"].max(), self.dossiers["queued_on"].max()]
        days = [d for d in days if pd.notna(d)]
        return max(days).date() if days else None

    @classmethod
    def of(cls, **frames: pd.DataFrame) -> "RiskLedger":
        """Frames with the expected columns and types; a frame not given is empty.

        Each row also gets integer keys, made once here so that every grouping after is
        on integers: `acc` (the debtor's position in `debtors`) and, for reminders and
        dossiers, `iid` (the invoice's position in `invoices`; -1 if unknown).
        """
        spec = {"debtors": DEBTOR_COLUMNS, "invoices": INVOICE_COLUMNS,
                "reminders": REMINDER_COLUMNS, "dossiers": DOSSIER_COLUMNS,
                "promises": PROMISE_COLUMNS, "plans": PLAN_COLUMNS, "disputes": DISPUTE_COLUMNS}
        out = {}
        for name, columns in spec.items():
            frame = frames.get(name)
            if frame is None or frame.empty:
                out[name] = _frame(columns)
                continue
            frame = frame.reindex(columns=list(columns)).copy()
            for column, kind in columns.items():
                if kind.startswith("datetime"):
                    frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
                elif kind == "float":
                    frame[column] = frame[column].astype(float)
                elif kind == "int":
                    frame[column] = frame[column].astype(int)
                else:
                    frame[column] = frame[column].astype(str)
            out[name] = frame.reset_index(drop=True)
        out["debtors"] = out["debtors"].drop_duplicates("account").reset_index(drop=True)
        accounts = pd.Index(out["debtors"]["account"])
        numbers = pd.Index(out["invoices"]["number"])
        for name, frame in out.items():
            frame["acc"] = accounts.get_indexer(frame["account"])
        out["invoices"]["iid"] = np.arange(len(out["invoices"]))
        for name in ("reminders", "dossiers"):
            out[name]["iid"] = numbers.get_indexer(out[name]["number"])
        return cls(**out)


def invoice_outcomes(ledger: RiskLedger, as_of: date) -> pd.DataFrame:
    """Each invoice issued on or before `as_of`, with what was known of it that day.

    state: `paid`, `litigation` (queued on or before the day, whatever came
    after) or `open`; paid_level: the highest ladder level sent before it was
    paid (0: none); days_to_pay: settlement day minus due date; open_at: what
    was owed that day (the whole amount if it was paid later, since payments
    made after the day were not known).
    """
    day = pd.Timestamp(as_of)
    inv = ledger.invoices[ledger.invoices["issue_date"] <= day].copy()
    n = int(ledger.invoices["iid"].max()) + 1 if len(ledger.invoices) else 0
    dossiers = ledger.dossiers[(ledger.dossiers["queued_on"] <= day) & (ledger.dossiers["iid"] >= 0)]
    queued = dossiers.groupby("iid")["queued_on"].min()
    inv["queued_on"] = queued.reindex(np.arange(n)).to_numpy()[inv["iid"].to_numpy()]
    settled = inv["settled_on"].notna() & (inv["settled_on"] <= day)
    inv["state"] = np.where(inv["queued_on"].notna(), "litigation",
                            np.where(settled, "paid", "open"))
    paid = inv["state"] == "paid"
    inv["settled_known"] = inv["settled_on"].where(paid)
    inv["days_to_pay"] = (inv["settled_known"] - inv["due_date"]).dt.days
    settled_by_iid = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    settled_by_iid[inv["iid"].to_numpy()] = inv["settled_known"].to_numpy()
    sent = ledger.reminders[(ledger.reminders["sent_on"] <= day) & (ledger.reminders["iid"] >= 0)]
    before = sent[sent["sent_on"].to_numpy() < settled_by_iid[sent["iid"].to_numpy()]]
    levels = np.zeros(n, dtype=int)
    np.maximum.at(levels, before["iid"].to_numpy(), before["level"].to_numpy())
    inv["paid_level"] = np.where(paid, levels[inv["iid"].to_numpy()], -1)
    inv["closed_on"] = inv["settled_known"].fillna(inv["queued_on"])
    later = (inv["last_payment_on"] > day) | (inv["settled_on"] > day)
    inv["open_at"] = np.where(inv["state"] != "open", 0.0,
                              np.where(later, inv["amount"], inv["open_amount"]))
    return inv


def history_features(ledger: RiskLedger, as_of: date,
                     accounts: list[str] | None = None) -> pd.DataFrame:
    """One row per debtor (index `account`), from what was known on `as_of` only."""
    day = pd.Timestamp(as_of)
    inv = invoice_outcomes(ledger, as_of)
    debtors = ledger.debtors
    index = pd.Index(accounts if accounts is not None else debtors["account"], name="account")
    # Computed for every debtor of the ledger by its integer key `acc`, then picked.
    out = pd.DataFrame(index=pd.RangeIndex(len(debtors)))

    closed = inv[inv["state"] != "open"]
    paid = closed[closed["state"] == "paid"]
    g = closed.groupby("acc")
    out["n_closed"] = g.size()
    out["n_paid_before_due"] = paid[paid["days_to_pay"] <= 0].groupby("acc").size()
    for level in (1, 2, 3):
        after = paid[(paid["paid_level"] == level) & (paid["days_to_pay"] > 0)]
        out[f"n_paid_after_l{level}"] = after.groupby("acc").size()
    out["n_litigation"] = closed[closed["state"] == "litigation"].groupby("acc").size()
    out = out.fillna(0)
    shares = out["n_closed"].where(out["n_closed"] > 0)
    for column in ("paid_before_due", "paid_after_l1", "paid_after_l2", "paid_after_l3",
                   "litigation"):
        out[f"share_{column}"] = (out[f"n_{column}"] / shares).fillna(0.0)

    days = paid.groupby("acc")["days_to_pay"]
    out["dtp_mean"] = days.mean()
    out["dtp_median"] = days.median()
    out["dtp_p90"] = days.quantile(0.9)
    out["dtp_max"] = days.max()

    # The last N closed invoices, most recent first: how many only after the formal notice
    # (level 3) or in litigation, and how late on average.
    recent = closed.sort_values("closed_on", ascending=False, kind="stable")
    recent = recent[recent.groupby("acc").cumcount() < LAST_N]
    hard = (recent["state"] == "litigation") | (recent["paid_level"] >= 3)
    out["last_n"] = recent.groupby("acc").size()
    out["last_n_after_notice"] = hard.groupby(recent["acc"]).sum()
    out["last_n_dtp_mean"] = recent.groupby("acc")["days_to_pay"].mean()

    out["broken_promises"] = _broken_promises(ledger, inv, day)
    plans = ledger.plans[ledger.plans["created_on"] <= day]
    broken_plans = plans[(plans["status"] == "broken") & (plans["status_on"] <= day)]
    out["plans"] = plans.groupby("acc").size()
    out["broken_plans"] = broken_plans.groupby("acc").size()
    out["disputes"] = ledger.disputes[ledger.disputes["opened_on"] <= day].groupby("acc").size()
    out["highest_level"] = ledger.reminders[ledger.reminders["sent_on"] <= day].groupby(
        "acc")["level"].max()
    first = inv.groupby("acc")["issue_date"].min()
    out["tenure_days"] = (day - first).dt.days

    open_ = inv[inv["state"] == "open"].copy()
    open_["late"] = (day - open_["due_date"]).dt.days.clip(lower=0)
    open_["overdue"] = open_["open_at"].where(open_["late"] > 0, 0.0)
    og = open_.groupby("acc")
    out["n_open"] = og.size()
    out["open_amount"] = og["open_at"].sum()
    out["overdue_amount"] = og["overdue"].sum()
    out["days_past_due"] = og["late"].max()

    kind = debtors["kind"]
    out["is_b2c"] = (kind == "B2C").astype(float)
    out["is_public"] = (kind == "PUBLIC").astype(float)
    since = debtors["collective_proceedings_since"]
    out["collective"] = (since.notna() & (since <= day)).astype(float)

    # A debtor with no closed invoice yet has no payment history: its days-to-pay say 0
    # (on time) and `no_history` says why.
    out = out.fillna(0.0)
    out["no_history"] = (out["n_closed"] == 0).astype(float)
    picked = out.reindex(pd.Index(debtors["account"]).get_indexer(index))
    picked["no_history"] = picked["no_history"].fillna(1.0)  # an account the ledger lacks
    picked.index = index
    return picked.fillna(0.0).astype(float)


def _broken_promises(ledger: RiskLedger, inv: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Promises whose day passed before `day` with an invoice they covered still unpaid then.

    A promise covers the invoices issued by the day it was made and due by its day.
    """
    promises = ledger.promises[(ledger.promises["created_on"] <= day)
                               & (ledger.promises["until"] < day)].reset_index(drop=True)
    if promises.empty:
        return pd.Series(dtype=float)
    promises["promise"] = promises.index
    pairs = promises.merge(inv[["acc", "issue_date", "due_date", "settled_on"]], on="acc")
    covered = (pairs["issue_date"] <= pairs["created_on"]) & (pairs["due_date"] <= pairs["until"])
    unpaid = pairs["settled_on"].isna() | (pairs["settled_on"] > pairs["until"])
    broken = pairs[covered & unpaid].drop_duplicates("promise")
    return broken.groupby("acc").size()


def known_on(ledger: RiskLedger, day: date) -> RiskLedger:
    """The ledger as it stood at the end of `day`: later rows dropped, later payments and
    plan outcomes not yet known. Training on it cannot see past the day."""
    t = pd.Timestamp(day)
    inv = ledger.invoices[ledger.invoices["issue_date"] <= t].copy()
    later = (inv["settled_on"] > t) | (inv["last_payment_on"] > t)
    inv.loc[later, "open_amount"] = inv.loc[later, "amount"]
    inv.loc[inv["settled_on"] > t, "settled_on"] = pd.NaT
    inv.loc[inv["last_payment_on"] > t, "last_payment_on"] = pd.NaT
    plans = ledger.plans[ledger.plans["created_on"] <= t].copy()
    pending = plans["status_on"] > t
    plans.loc[pending, "status"] = "active"
    plans.loc[pending, "status_on"] = pd.NaT
    return RiskLedger(
        debtors=ledger.debtors, invoices=inv,
        reminders=ledger.reminders[ledger.reminders["sent_on"] <= t],
        dossiers=ledger.dossiers[ledger.dossiers["queued_on"] <= t],
        promises=ledger.promises[ledger.promises["created_on"] <= t],
        plans=plans, disputes=ledger.disputes[ledger.disputes["opened_on"] <= t])
