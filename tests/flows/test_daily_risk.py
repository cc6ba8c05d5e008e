"""The daily run learns the risk score from the ledger's history, then scores with it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import RiskModelRow
from recouvrement.entrypoints.risk_scenario import generate, write_to_ledger

pytestmark = [pytest.mark.flow]

DAY = date(2026, 11, 30)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_daily_run_trains_the_model_and_every_score_says_why(home, database_url, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_RISK_MODEL_MIN_EXAMPLES", "40")
    with open_database(database_url).session() as session:
        write_to_ledger(session, generate(60, seed=8, end=DAY))
    result = run("run", "--as-of", DAY.isoformat())
    assert result.exit_code in (0, 1), result.output
    with open_database(database_url).session() as session:
        [model] = session.scalars(select(RiskModelRow)).all()
    assert model.trained_on == DAY and model.metrics["examples"] >= 40
    debtors = json.loads(run("debtors", "--format", "json").output)
    assert len(debtors) == 60
    assert all(d["risk_factors"] and 0 <= d["risk_score"] <= 100 for d in debtors)
    # and the next run of the day keeps the model it has
    assert run("run", "--as-of", DAY.isoformat()).exit_code in (0, 1)
    with open_database(database_url).session() as session:
        assert len(session.scalars(select(RiskModelRow)).all()) == 1


def test_too_little_history_keeps_the_hand_set_score(home, database_url):
    with open_database(database_url).session() as session:
        write_to_ledger(session, generate(20, seed=8, end=DAY))
    assert run("run", "--as-of", DAY.isoformat()).exit_code in (0, 1)
    with open_database(database_url).session() as session:
        assert session.scalars(select(RiskModelRow)).all() == []
    debtors = json.loads(run("debtors", "--format", "json").output)
    assert all(d["risk_factors"] for d in debtors)
