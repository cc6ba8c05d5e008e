"""The learned risk score on a generated scenario whose true chances are known."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from recouvrement.domain.risk_model import (FEATURES, RiskModel, auc, calibration_table, explain, fit,
                                            score_from)
from recouvrement.services.risk_backtest import backtest, train_on
from recouvrement.entrypoints.risk_scenario import generate, true_probabilities

CUT = date(2026, 7, 1)


@pytest.fixture(scope="module")
def scenario():
    return generate(800, seed=5)


@pytest.fixture(scope="module")
def result(scenario):
    return backtest(scenario.ledger, CUT, boosting=False,
                    truth=lambda open_: true_probabilities(scenario, open_, CUT, 30))


def figures(result):
    return {r["scorer"]: r for r in result["scorers"]}


def test_the_learned_score_beats_every_one_feature_baseline_and_the_rule_score(result):
    f = figures(result)
    learned = f["learned (logistic regression)"]
    others = [name for name in f if name.startswith("baseline") or name == "today's rule score"]
    assert len(others) == 4
    for name in others:
        for target in ("auc_litigation", "auc_pays_30"):
            assert learned[target] >= f[name][target] + 0.05, (name, target, f)


def test_the_learned_score_comes_close_to_the_best_possible_answer(result):
    f = figures(result)
    learned, best = f["learned (logistic regression)"], f["best possible (hidden truth)"]
    for target in ("auc_litigation", "auc_pays_30"):
        assert best[target] - 0.06 <= learned[target] <= best[target] + 0.01, (target, f)
    # and its chances are calibrated: Brier score close to the truth's
    assert learned["brier_pays_30"] <= best["brier_pays_30"] + 0.03


def test_a_model_that_learned_nothing_would_fail_the_check(scenario, result):
    """The check above can fail: the same fit on shuffled outcomes ranks no better than chance."""
    train = train_on(scenario.ledger, CUT).copy()
    rng = np.random.default_rng(0)
    train["pays_30"] = rng.permutation(train["pays_30"].to_numpy())
    model = fit(train, CUT)
    test = train_on(scenario.ledger, date(2026, 10, 1))
    shuffled = auc(test["pays_30"].to_numpy(), model.predict(test)["pays_30"].to_numpy())
    baseline = figures(result)["baseline: days past due"]["auc_pays_30"]
    assert shuffled < baseline


def test_the_truth_is_what_happened_on_average(scenario, result):
    """The hidden chances are those the generator plays: calibrated on the outcomes."""
    f = figures(result)["best possible (hidden truth)"]
    assert f["brier_litigation"] < 0.05 and f["auc_litigation"] > 0.95


def test_a_stored_model_scores_the_same_from_its_json(scenario):
    train = train_on(scenario.ledger, CUT)
    model = fit(train, CUT)
    back = RiskModel.from_json(model.to_json(), CUT)
    pd.testing.assert_frame_equal(model.predict(train), back.predict(train))


def test_every_score_comes_with_its_reasons_in_words(scenario):
    train = train_on(scenario.ledger, CUT)
    model = fit(train, CUT)
    words = explain(model, train.head(50).reset_index(drop=True))
    assert all(len(w) == 3 and all(isinstance(x, str) and x for x in w) for w in words)
    assert any("formal notice" in x for w in words for x in w)


def test_explanations_name_the_history_that_drives_the_score():
    """A hand-made model where only the share paid after the formal notice matters."""
    features = list(FEATURES)
    coefficients = [0.0] * len(features)
    coefficients[features.index("last_n_after_notice")] = -2.0  # pays_30: less likely
    model = RiskModel(CUT, tuple(features), (0.0,) * len(features), (1.0,) * len(features),
                      {"pays_30": tuple(coefficients), "litigation": tuple(coefficients)},
                      {"pays_30": 0.0, "litigation": 0.0})
    row = {c: 0.0 for c in ("n_closed", "n_paid_before_due", "n_paid_after_l1",
                            "n_paid_after_l2", "n_paid_after_l3", "n_litigation",
                            "share_paid_before_due", "share_paid_after_l1", "share_paid_after_l2",
                            "share_paid_after_l3", "share_litigation", "dtp_mean", "dtp_p90",
                            "last_n_dtp_mean", "broken_promises", "broken_plans", "disputes",
                            "tenure_days", "open_amount", "overdue_amount", "days_past_due",
                            "highest_level", "is_b2c", "is_public", "collective", "no_history")}
    row.update(n_closed=4, n_paid_after_l3=3, last_n=4, last_n_after_notice=3)
    features_frame = pd.DataFrame([row], index=["411A"])
    [words] = explain(model, features_frame, top=1)
    assert words == ["paid 3 of its last 4 invoices only after the formal notice (or not at all)"]
    # 3/4 after the notice, coefficient -2 on paying: logit -1.5 -> chance 0.18 -> score 82
    assert score_from(model.predict(features_frame)["pays_30"]).tolist() == [82]


def test_calibration_table_counts_each_band():
    p = np.array([0.05, 0.07, 0.55, 0.95])
    y = np.array([0, 1, 1, 1])
    assert calibration_table(p, y) == [
        {"band": "0.0–0.1", "debtors": 2, "predicted": 0.06, "observed": 0.5},
        {"band": "0.5–0.6", "debtors": 1, "predicted": 0.55, "observed": 1.0},
        {"band": "0.9–1.0", "debtors": 1, "predicted": 0.95, "observed": 1.0}]
