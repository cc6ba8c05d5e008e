"""The learned risk score end to end: a played scenario in the ledger, the model trained and
stored, every debtor scored and explained in `debtors`, the audit log and `risk backtest`."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, RiskModelRow
from recouvrement.entrypoints.risk_scenario import generate, write_to_ledger
from recouvrement.adapters.risk_store import latest_model, train_and_store
from recouvrement.services.scoring import score_ledger
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY = date(2026, 11, 30)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def played(home, database_url):
    scenario = generate(300, seed=2, end=DAY)
    db = open_database(database_url)
    with db.session() as session:
        write_to_ledger(session, scenario)
        score_ledger(session, today=DAY, actor="test")  # the hand-set score, before any model
    return scenario, db


def test_too_little_history_keeps_the_hand_set_score(played):
    _, db = played
    with db.session() as session:
        result = train_and_store(session, today=DAY, min_examples=100_000)
        assert result["status"] == "not_enough_history" and result["examples"] > 0
        assert latest_model(session, DAY) is None
    debtors = json.loads(run("debtors", "--format", "json").output)
    assert all(d["risk_factors"] for d in debtors)  # the rules explain themselves too


def test_the_daily_model_is_trained_stored_and_explains_every_score(played):
    scenario, db = played
    with db.session() as session:
        result = train_and_store(session, today=DAY, min_examples=200)
    assert result["status"] == "trained"
    assert result["metrics"]["holdout_auc_pays_30"] > 0.8
    with db.session() as session:  # once a day
        assert train_and_store(session, today=DAY, min_examples=200)["status"] == "kept"
        row = session.scalars(select(RiskModelRow)).one()
        assert row.trained_on == DAY and row.library.startswith("scikit-learn 1.")
        assert set(row.parameters) == {"features", "means", "scales", "coefficients",
                                       "intercepts"}
        mark = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        score_ledger(session, today=DAY, actor="test")

    debtors = json.loads(run("debtors", "--format", "json").output)
    assert len(debtors) == 300
    for d in debtors:
        assert {"account", "name", "risk_score", "risk_class", "open_amount", "level"} <= set(d)
        assert 0 <= d["risk_score"] <= 100 and len(d["risk_factors"]) == 3
    # the defaulters score higher than the reliable payers
    by = {d["account"]: d["risk_score"] for d in debtors}
    mean = lambda kind: sum(by[a] for a in scenario.behaviour.index[scenario.behaviour == kind]
                            ) / (scenario.behaviour == kind).sum()  # noqa: E731
    assert mean("defaulting") > mean("slow") > mean("reliable")
    table = run("debtors").output
    assert "risk_factors" in table.splitlines()[0]

    with db.session() as session:
        changes = session.scalars(select(AuditEntry).where(
            AuditEntry.id > mark, AuditEntry.event == "risk.class_changed")).all()
    assert changes and all(c.details["model"] == "learned" and len(c.details["because"]) == 3
                           for c in changes)


def test_risk_backtest_on_the_ledger(played):
    _, db = played
    result = run("risk", "backtest", "--cut", "2026-07-01", "--format", "json")
    assert result.exit_code == 0, result.output
    figures = {r["scorer"]: r for r in json.loads(result.output)["scorers"]}
    learned = figures["learned (logistic regression)"]["auc_litigation"]
    assert learned > figures["baseline: overdue amount"]["auc_litigation"]
    assert "best possible (hidden truth)" not in figures  # a real ledger has no hidden truth


def test_risk_backtest_refuses_a_cut_with_no_outcome_known_yet(played):
    result = CliRunner().invoke(cli, ["risk", "backtest", "--cut", "2026-11-01"])
    assert result.exit_code == 2 and "no outcome is known yet" in result.output


def test_the_ladder_follows_the_bands_of_the_learned_chance(played):
    """A reliable debtor's first reminder is the soft one, a likely-late one's calls."""
    from recouvrement.adapters.db.models import Debtor, Reminder
    from recouvrement.domain.policy import load_policy
    from recouvrement.adapters.mail.render import Creditor
    from recouvrement.services.reminder_planning import plan_reminders

    _, db = played
    with db.session() as session:
        train_and_store(session, today=DAY, min_examples=200)
        score_ledger(session, today=DAY, actor="test")
        mark = session.scalar(select(Reminder.id).order_by(Reminder.id.desc()).limit(1))
        plan_reminders(session, today=DAY, policy=load_policy(), actor="test", run_id="run",
                       creditor=Creditor(name="Exemple SAS", sender="relances@exemple.example.com"))
        planned = session.execute(
            select(Reminder.level, Reminder.channel, Reminder.subject, Debtor.risk_factors)
            .join(Debtor, Debtor.id == Reminder.debtor_id)
            .where(Reminder.id > mark, Reminder.level == 1)).all()
    late = lambda f: 1 - f["pays_30"]  # noqa: E731
    reliable = [p for p in planned if late(p.risk_factors) <= 0.10]
    risky = [p for p in planned if late(p.risk_factors) >= 0.60]
    middle = [p for p in planned if 0.10 < late(p.risk_factors) < 0.60]
    assert reliable and risky and middle
    assert all(p.subject.startswith("Petit rappel") for p in reliable)
    assert all(p.subject.startswith("Rappel de paiement") for p in middle + risky)
    assert all("phone" in p.channel for p in risky)
