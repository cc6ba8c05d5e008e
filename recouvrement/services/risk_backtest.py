"""The risk backtest: score every debtor with only what the ledger knew on a day, then
compare with what happened after it.

The learned model is trained on the ledger as it stood on the cut (earlier cuts
whose outcomes were known by then), and scored beside one-feature baselines,
today's rule score, a gradient-boosting model (for the choice of model) and,
on a generated scenario, the hidden truth: the best possible answer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from recouvrement.domain.risk import score_debtors
from recouvrement.domain.risk_features import RiskLedger, history_features, invoice_outcomes, known_on
from recouvrement.domain.risk_model import (BASELINES, HORIZON_DAYS, PAY_WINDOW_DAYS, auc, brier,
                                            calibration_table, examples, fit, model_inputs,
                                            outcome_labels, training_cuts)

TRAIN_CUTS = 6


def train_on(ledger: RiskLedger, day: date, *, cuts: int = TRAIN_CUTS,
             horizon_days: int = HORIZON_DAYS):
    """The model the ledger known on `day` can teach, and its training examples."""
    past = known_on(ledger, day)
    last = day - timedelta(days=horizon_days)
    train = examples(past, training_cuts(last, cuts), horizon_days=horizon_days)
    return train


def rule_scores(ledger: RiskLedger, day: date, accounts: list[str]) -> pd.Series:
    """Today's hand-set score, as it would have been computed on `day`."""
    inv = invoice_outcomes(ledger, day)
    open_ = inv.loc[inv["state"] == "open", ["account", "due_date", "open_at"]].rename(
        columns={"open_at": "open_amount"})
    rem = ledger.reminders[ledger.reminders["sent_on"] <= pd.Timestamp(day)]
    scores = score_debtors(open_.itertuples(index=False, name=None),
                           rem[["account", "level", "sent_on"]].itertuples(index=False, name=None),
                           accounts, day)
    return pd.Series({s.account: s.score for s in scores}, dtype=float)


def backtest(ledger: RiskLedger, cut: date, *, truth=None, cuts: int = TRAIN_CUTS,
             horizon_days: int = HORIZON_DAYS, boosting: bool = True) -> dict[str, Any]:
    """Figures for the debtors with invoices open on `cut` whose outcomes are known.

    `truth`: a function (open invoices on the cut) -> frame of true chances per debtor
    (columns pays_30, litigation), for a generated scenario.
    """
    last = ledger.last_day()
    if last is None or cut + timedelta(days=horizon_days) > last:
        raise ValueError(f"the ledger knows nothing after {last}: no outcome is known yet "
                         f"{horizon_days} days after {cut} (take a cut on or before "
                         f"{last - timedelta(days=horizon_days) if last else 'its first day'})")
    train = train_on(ledger, cut, cuts=cuts, horizon_days=horizon_days)
    if train.empty:
        raise ValueError(f"no history to learn from before {cut}: the ledger needs invoices "
                         f"closed at least {horizon_days} days before the cut")
    model = fit(train, cut)
    labels = outcome_labels(ledger, cut, horizon_days=horizon_days)
    if labels.empty:
        raise ValueError(f"no debtor with invoices open on {cut} whose outcome is known yet")
    features = history_features(known_on(ledger, cut), cut, list(labels.index))
    learned = model.predict(features)
    y_pay = labels["pays_30"].to_numpy()
    y_lit = labels["litigation"].to_numpy()

    # Each scorer: (chance of paying within 30 days, chance of litigation); a baseline is
    # a ranking only (higher = riskier), so it has no Brier score.
    scorers: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {
        "learned (logistic regression)": (learned["pays_30"].to_numpy(),
                                          learned["litigation"].to_numpy(), True)}
    if boosting:
        scorers["gradient boosting (calibrated)"] = (*_boosting(train, features), True)
    rules = rule_scores(ledger, cut, list(labels.index)).reindex(labels.index).to_numpy()
    scorers["today's rule score"] = (-rules, rules, False)
    for name, column in BASELINES:
        value = features[column].to_numpy()
        scorers[f"baseline: {name}"] = (-value, value, False)
    if truth is not None:
        known = invoice_outcomes(ledger, cut)
        open_ = known.loc[known["state"] == "open", ["account", "due_date"]]
        true = truth(open_[open_["account"].isin(labels.index)]).reindex(labels.index)
        scorers["best possible (hidden truth)"] = (true["pays_30"].to_numpy(),
                                                  true["litigation"].to_numpy(), True)

    rows = []
    for name, (pay, lit, probabilistic) in scorers.items():
        rows.append({"scorer": name, "auc_litigation": round(auc(y_lit, lit), 4),
                     "auc_pays_30": round(auc(y_pay, pay), 4),
                     "brier_litigation": round(brier(y_lit, lit), 4) if probabilistic else None,
                     "brier_pays_30": round(brier(y_pay, pay), 4) if probabilistic else None})
    return {
        "cut": cut.isoformat(), "horizon_days": horizon_days, "pay_window_days": PAY_WINDOW_DAYS,
        "training_examples": len(train), "debtors": len(labels),
        "rate_litigation": round(float(y_lit.mean()), 4),
        "rate_pays_30": round(float(y_pay.mean()), 4),
        "scorers": rows,
        "calibration_pays_30": calibration_table(learned["pays_30"].to_numpy(), y_pay),
        "calibration_litigation": calibration_table(learned["litigation"].to_numpy(), y_lit),
    }


def _boosting(train: pd.DataFrame, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Gradient boosting with isotonic calibration, to choose the model by the backtest."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, z = model_inputs(train).to_numpy(), model_inputs(features).to_numpy()
    out = []
    for target in ("pays_30", "litigation"):
        y = train[target].to_numpy().astype(int)
        clf = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=200, random_state=0),
                                     method="isotonic", cv=3)
        out.append(clf.fit(x, y).predict_proba(z)[:, 1])
    return out[0], out[1]


def as_markdown(result: dict[str, Any]) -> str:
    lines = [f"Cut {result['cut']}: {result['debtors']} debtors with invoices open, "
             f"{result['training_examples']} training examples from earlier cuts; "
             f"{result['rate_litigation']:.1%} ended in litigation within "
             f"{result['horizon_days']} days, {result['rate_pays_30']:.1%} paid everything "
             f"within {result['pay_window_days']} days.", "",
             "| scorer | AUC litigation | AUC pays within 30 days | Brier litigation | Brier pays 30 |",
             "|---|---|---|---|---|"]
    for r in result["scorers"]:
        lines.append(f"| {r['scorer']} | {_fig(r['auc_litigation'])} | {_fig(r['auc_pays_30'])} | "
                     f"{_fig(r['brier_litigation'])} | {_fig(r['brier_pays_30'])} |")
    for target, title in (("pays_30", "pays everything within 30 days"),
                          ("litigation", "ends in litigation")):
        lines += ["", f"Calibration of the learned chance that the debtor {title}:", "",
                  "| predicted band | debtors | mean predicted | observed |", "|---|---|---|---|"]
        lines += [f"| {c['band']} | {c['debtors']} | {c['predicted']:.3f} | {c['observed']:.3f} |"
                  for c in result[f"calibration_{target}"]]
    return "\n".join(lines) + "\n"


def _fig(value) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"
