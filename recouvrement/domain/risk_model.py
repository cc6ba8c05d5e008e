"""A risk score learned from the ledger's own history, and explained in words.

The examples are debtors on past days ("cuts"): their features as known that
day (`history_features`), and what happened after it to the invoices they had
open — were they all paid within 30 days (of their due date, or of the cut if
already late), did one go to litigation. Two regularised logistic
regressions learn these; the score is the chance of NOT paying within 30
days, times 100. A fitted model is kept as plain numbers (means, scales,
coefficients: JSON), never as a pickle, and scores with numpy alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from recouvrement.domain.risk_features import RiskLedger, history_features, invoice_outcomes

PAY_WINDOW_DAYS = 30  # "pays within 30 days" (of the due date, or of the cut if later)
HORIZON_DAYS = 120    # how long after a cut its outcomes are watched
REGULARISATION = 1.0  # the logistic regressions' C (inverse L2 strength)
TARGETS = ("pays_30", "litigation")

# The model's inputs, as transformed from history_features (log of amounts and counts).
FEATURES = (
    "log_closed", "share_paid_before_due", "share_paid_after_l1", "share_paid_after_l2",
    "share_paid_after_l3", "share_litigation", "dtp_mean", "dtp_p90", "last_n_after_notice",
    "last_n_dtp_mean", "broken_promises", "broken_plans", "disputes", "tenure_years",
    "log_open", "log_overdue", "days_past_due", "highest_level", "is_b2c", "is_public",
    "collective", "no_history",
)
# One-feature baselines the backtest compares with: (name, feature, higher = riskier)
BASELINES = (("overdue amount", "overdue_amount"), ("days past due", "days_past_due"),
             ("highest level ever reached", "highest_level"))


def model_inputs(features: pd.DataFrame) -> pd.DataFrame:
    f = features
    x = pd.DataFrame(index=f.index)
    x["log_closed"] = np.log1p(f["n_closed"])
    for column in ("share_paid_before_due", "share_paid_after_l1", "share_paid_after_l2",
                   "share_paid_after_l3", "share_litigation", "broken_promises",
                   "broken_plans", "disputes", "highest_level", "is_b2c", "is_public",
                   "collective", "no_history", "last_n_dtp_mean"):
        x[column] = f[column]
    x["dtp_mean"] = f["dtp_mean"].clip(-30, 120)
    x["dtp_p90"] = f["dtp_p90"].clip(-30, 120)
    x["last_n_after_notice"] = (f["last_n_after_notice"] / f["last_n"].where(f["last_n"] > 0)
                                ).fillna(0.0)
    x["tenure_years"] = f["tenure_days"] / 365.0
    x["log_open"] = np.log1p(f["open_amount"].clip(lower=0))
    x["log_overdue"] = np.log1p(f["overdue_amount"].clip(lower=0))
    x["days_past_due"] = f["days_past_due"].clip(upper=365)
    return x[list(FEATURES)].astype(float)


def outcome_labels(ledger: RiskLedger, cut: date, *, window_days: int = PAY_WINDOW_DAYS,
                   horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    """Per debtor with invoices open on `cut`: what became of them after it.

    Columns: pays_30 (every one paid within `window_days` of the later of its due date
    and the cut, none queued), litigation (one queued within `horizon_days`).
    Uses only what happened after the cut; debtors with an invoice due too late to be
    judged within the horizon are left out.
    """
    day = pd.Timestamp(cut)
    known = invoice_outcomes(ledger, cut)
    open_ = known.loc[(known["state"] == "open") & (known["acc"] >= 0),
                      ["acc", "iid", "due_date", "settled_on"]]
    queued = ledger.dossiers[ledger.dossiers["iid"] >= 0].groupby("iid")["queued_on"].min()
    open_["queued_on"] = queued.reindex(open_["iid"]).to_numpy()
    limit = open_["due_date"].where(open_["due_date"] > day, day) + pd.Timedelta(days=window_days)
    end = day + pd.Timedelta(days=horizon_days)
    open_["soon"] = ((open_["settled_on"] <= limit) & ~(open_["queued_on"] <= limit)).astype(int)
    open_["lit"] = (open_["queued_on"] <= end).astype(int)
    open_["judged"] = limit <= end
    g = open_.groupby("acc")
    labels = pd.DataFrame({"pays_30": g["soon"].min(), "litigation": g["lit"].max(),
                           "judged": g["judged"].all()})
    labels.index = pd.Index(ledger.debtors["account"].to_numpy()[labels.index], name="account")
    return labels[labels["judged"]].drop(columns="judged")


def examples(ledger: RiskLedger, cuts: list[date], **label_options) -> pd.DataFrame:
    """Features as of each cut joined to the outcomes after it, stacked (column `cut`)."""
    frames = []
    for cut in cuts:
        labels = outcome_labels(ledger, cut, **label_options)
        if labels.empty:
            continue
        features = history_features(ledger, cut, list(labels.index))
        frames.append(features.join(labels).assign(cut=pd.Timestamp(cut)))
    return pd.concat(frames) if frames else pd.DataFrame()


def training_cuts(last_cut: date, count: int, step_days: int = 30) -> list[date]:
    return [last_cut - timedelta(days=step_days * k) for k in range(count)]


@dataclass(frozen=True)
class RiskModel:
    """A fitted model as plain numbers: standardisation, then one logistic regression per
    target. `metrics` are measured at training (counts, rates)."""

    trained_on: date
    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: dict[str, tuple[float, ...]]
    intercepts: dict[str, float]
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "means": list(self.means),
                "scales": list(self.scales),
                "coefficients": {k: list(v) for k, v in self.coefficients.items()},
                "intercepts": dict(self.intercepts)}

    @classmethod
    def from_json(cls, data: dict[str, Any], trained_on: date,
                  metrics: dict[str, Any] | None = None) -> "RiskModel":
        return cls(trained_on=trained_on, features=tuple(data["features"]),
                   means=tuple(float(v) for v in data["means"]),
                   scales=tuple(float(v) for v in data["scales"]),
                   coefficients={k: tuple(float(x) for x in v)
                                 for k, v in data["coefficients"].items()},
                   intercepts={k: float(v) for k, v in data["intercepts"].items()},
                   metrics=metrics or {})

    def _standard(self, features: pd.DataFrame) -> np.ndarray:
        x = model_inputs(features)[list(self.features)].to_numpy()
        return (x - np.array(self.means)) / np.array(self.scales)

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Chances per debtor: pays_30, litigation."""
        z = self._standard(features)
        out = pd.DataFrame(index=features.index)
        for target in TARGETS:
            logit = z @ np.array(self.coefficients[target]) + self.intercepts[target]
            out[target] = 1 / (1 + np.exp(-logit))
        return out

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """How much each input moves the log-odds of not paying within 30 days, against
        an average debtor of the training set (positive = riskier)."""
        z = self._standard(features)
        return pd.DataFrame(-z * np.array(self.coefficients["pays_30"]), index=features.index,
                            columns=list(self.features))


def fit(train: pd.DataFrame, trained_on: date, *, c: float = REGULARISATION) -> RiskModel:
    """Two L2-regularised logistic regressions on standardised inputs (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    x = model_inputs(train)
    means = x.mean().to_numpy()
    scales = x.std(ddof=0).replace(0, 1.0).to_numpy()
    z = (x.to_numpy() - means) / scales
    coefficients, intercepts, metrics = {}, {}, {"examples": len(train)}
    for target in TARGETS:
        y = train[target].to_numpy().astype(int)
        metrics[f"rate_{target}"] = round(float(y.mean()), 4)
        if y.min() == y.max():  # one outcome only: the rate is all there is to learn
            coefficients[target] = (0.0,) * len(FEATURES)
            intercepts[target] = float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
            continue
        lr = LogisticRegression(C=c, max_iter=1000).fit(z, y)
        coefficients[target] = tuple(float(v) for v in lr.coef_[0])
        intercepts[target] = float(lr.intercept_[0])
    return RiskModel(trained_on, FEATURES, tuple(float(v) for v in means),
                     tuple(float(v) for v in scales), coefficients, intercepts, metrics)


def score_from(pays_30: pd.Series) -> pd.Series:
    """0-100, higher = riskier: the chance of not paying within 30 days."""
    return (100 * (1 - pays_30)).round().clip(0, 100).astype(int)


# Words for what raises or lowers a debtor's risk: feature -> (riskier, safer), each a
# format string over history_features' columns.
WORDS = {
    "share_paid_before_due": ("paid only {n_paid_before_due:.0f} of {n_closed:.0f} invoices by the due date",
                              "paid {n_paid_before_due:.0f} of {n_closed:.0f} invoices by the due date"),
    "share_paid_after_l1": ("paid {n_paid_after_l1:.0f} of {n_closed:.0f} invoices only after the first reminder",
                            "rarely needed a reminder ({n_paid_after_l1:.0f} of {n_closed:.0f} after the first)"),
    "share_paid_after_l2": ("paid {n_paid_after_l2:.0f} of {n_closed:.0f} invoices only after the second reminder",
                            "rarely needed a second reminder ({n_paid_after_l2:.0f} of {n_closed:.0f})"),
    "share_paid_after_l3": ("paid {n_paid_after_l3:.0f} of {n_closed:.0f} invoices only after the formal notice",
                            "never needed a formal notice" ),
    "share_litigation": ("{n_litigation:.0f} of {n_closed:.0f} invoices went to litigation",
                         "no invoice sent to litigation"),
    "last_n_after_notice": ("paid {last_n_after_notice:.0f} of its last {last_n:.0f} invoices only after the formal notice (or not at all)",
                            "none of its last {last_n:.0f} invoices needed the formal notice"),
    "dtp_mean": ("pays {dtp_mean:.0f} days after the due date on average",
                 "pays {dtp_mean:.0f} days from the due date on average"),
    "dtp_p90": ("one invoice in ten paid {dtp_p90:.0f} days late or more",
                "even its slowest invoices paid within {dtp_p90:.0f} days of the due date"),
    "last_n_dtp_mean": ("its last invoices paid {last_n_dtp_mean:.0f} days late on average",
                        "its last invoices paid {last_n_dtp_mean:.0f} days from the due date on average"),
    "broken_promises": ("broke {broken_promises:.0f} promise(s) to pay", "no broken promise"),
    "broken_plans": ("broke {broken_plans:.0f} payment plan(s)", "no broken payment plan"),
    "disputes": ("opened {disputes:.0f} dispute(s)", "no dispute"),
    "tenure_years": ("a customer for {tenure_days:.0f} days only", "a customer for {tenure_days:.0f} days"),
    "log_open": ("{open_amount:.0f} € open", "only {open_amount:.0f} € open"),
    "log_overdue": ("{overdue_amount:.0f} € overdue", "nothing much overdue ({overdue_amount:.0f} €)"),
    "days_past_due": ("oldest open invoice {days_past_due:.0f} days past due", "nothing long overdue"),
    "highest_level": ("has been sent up to level {highest_level:.0f} of the ladder",
                      "never chased beyond level {highest_level:.0f}"),
    "log_closed": ("little history ({n_closed:.0f} invoices closed)", "a long history ({n_closed:.0f} invoices closed)"),
    "no_history": ("no paid invoice yet to judge by", "has a payment history"),
    "is_b2c": ("a consumer", "not a consumer"),
    "is_public": ("a public body", "not a public body"),
    "collective": ("in collective proceedings", "not in collective proceedings"),
}


def explain(model: RiskModel, features: pd.DataFrame, top: int = 3) -> pd.Series:
    """Per debtor, the `top` inputs that move its score most, in words (riskier first)."""
    contrib = model.contributions(features)
    values = features.to_dict("index")
    order = np.argsort(-np.abs(contrib.to_numpy()), axis=1)[:, :top]
    columns = np.array(contrib.columns)
    out = {}
    for (account, row), picks, signs in zip(contrib.iterrows(), order, contrib.to_numpy()):
        words = []
        for j in picks:
            riskier, safer = WORDS[columns[j]]
            words.append((riskier if signs[j] > 0 else safer).format(**values[account]))
        out[account] = words
    return pd.Series(out, dtype=object)


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed rate, by band of predicted chance (tenths)."""
    band = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = band == b
        if mask.any():
            rows.append({"band": f"{b / bins:.1f}–{(b + 1) / bins:.1f}", "debtors": int(mask.sum()),
                         "predicted": round(float(p[mask].mean()), 3),
                         "observed": round(float(y[mask].mean()), 3)})
    return rows


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else math.nan


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))
