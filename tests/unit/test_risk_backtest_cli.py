"""`recouvrement risk backtest` on a generated scenario: anyone can run it, no ledger needed."""

import json

from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli


def test_backtest_of_a_scenario_prints_the_figures_beside_the_best_possible_answer():
    result = CliRunner().invoke(cli, ["risk", "backtest", "--cut", "2026-07-01",
                                      "--scenario", "600", "--seed", "4"])
    assert result.exit_code == 0, result.output
    out = result.output
    for line in ("| learned (logistic regression) |", "| baseline: overdue amount |",
                 "| baseline: days past due |", "| baseline: highest level ever reached |",
                 "| best possible (hidden truth) |", "Calibration of the learned chance"):
        assert line in out


def test_backtest_as_json_names_the_scenario_behaviours():
    result = CliRunner().invoke(cli, ["risk", "backtest", "--cut", "2026-06-01", "--scenario",
                                      "300", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["scenario"]["behaviours"]) == {"reliable", "slow", "distressed", "defaulting"}
    figures = {r["scorer"]: r for r in data["scorers"]}
    assert figures["learned (logistic regression)"]["auc_litigation"] > \
        figures["baseline: overdue amount"]["auc_litigation"]
