"""Promises, payment plans, policies and declarations, as a credit manager uses them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]


@pytest.fixture(autouse=True)
def _lift_the_hold_share(home, monkeypatch):  # after `home`, which clears the settings
    # These exports carry a few bad rows on purpose, to see them quarantined while the rest
    # is read: the share that holds a real export back whole (5 %) is lifted here; the
    # hold itself is tested in tests/integration/test_ingest_guards.py and test_held_exports.py.
    monkeypatch.setenv("RECOUVREMENT_HOLD_QUARANTINED_PERCENT", "100")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sent_to(sink):
    return [(m["X-Recouvrement-Debtor"], m["X-Recouvrement-Level"]) for m in sink.messages]


@pytest.fixture
def ledger(home):
    inbox = home / "inbox"
    write_customers(inbox, [customer("411DUPONT"), customer("411PLAN"),
                            customer("411KO", collective_proceedings_since="2026-09-08")])
    write_invoices(inbox, date(2026, 10, 1), [
        invoice("F1", "411DUPONT", date(2026, 10, 1), "1000.00"),
        invoice("P1", "411PLAN", date(2026, 10, 1), "600.00"),
        invoice("K1", "411KO", date(2026, 9, 15), "2500.00")])
    assert run("run", "--as-of", "2026-10-01").exit_code == 0
    return inbox


def test_a_promise_pauses_then_the_next_level_follows_the_day_after(ledger, sink):
    assert ("411DUPONT", "1") in sent_to(sink)
    assert run("promise", "411DUPONT", "--until", "2026-10-20", "--as-of", "2026-10-02").exit_code == 0
    assert run("promise", "411DUPONT", "--until", "2026-10-01", "--as-of", "2026-10-02").exit_code == 2
    out = run("run", "--as-of", "2026-10-16", "--debtor", "411DUPONT").output
    assert "skipped 411DUPONT: promise to pay until 2026-10-20" in out
    run("run", "--as-of", "2026-10-21", "--debtor", "411DUPONT")
    assert sent_to(sink).count(("411DUPONT", "2")) == 1
    assert run("promise", "411NOBODY", "--until", "2026-12-01").exit_code == 2


def test_a_payment_plan_pauses_while_honoured_and_a_missed_instalment_breaks_it(ledger, sink, home):
    result = run("plan", "411PLAN", "--instalments", "3", "--first", "2026-10-10", "--every-days", "10")
    assert result.exit_code == 0 and "3. 2026-10-30  200.00" in result.output
    assert run("plan", "411PLAN", "--instalments", "2", "--first", "2026-11-01").exit_code == 2
    # First instalment paid: 400.00 left on P1.
    write_invoices(home / "inbox", date(2026, 10, 16), [
        invoice("F1", "411DUPONT", date(2026, 10, 1), "1000.00"),
        invoice("P1", "411PLAN", date(2026, 10, 1), "600.00", "400.00"),
        invoice("K1", "411KO", date(2026, 9, 15), "2500.00")])
    out = run("run", "--as-of", "2026-10-16", "--dry-run").output
    assert "nothing for 411PLAN: P1 payment plan honoured: instalment 2 of 200.00 due 2026-10-20" in out
    run("run", "--as-of", "2026-10-16")
    assert ("411PLAN", "2") not in sent_to(sink)
    # The second instalment is never paid: broken after the 5 grace days, dunning resumes.
    out = run("run", "--as-of", "2026-10-26").output
    assert "FLAG 411PLAN: payment plan broken: instalment 2 of 200.00 due 2026-10-20" in out
    assert ("411PLAN", "2") in sent_to(sink)
    shown = run("audit", "show", "--debtor", "411PLAN").output
    assert "plan.agreed" in shown and "plan.broken" in shown


def test_debtors_in_collective_proceedings_are_listed_with_the_deadline_to_declare(ledger, sink):
    assert "411KO" not in [d for d, _ in sent_to(sink)]
    rows = json.loads(run("declarations", "--format", "json").output)
    assert rows == [{"account": "411KO", "name": "Ko SARL", "proceedings_since": "2026-09-08",
                     "open_amount": "2500.00", "declare_by": "2026-11-08"}]


def test_a_policy_file_segment_changes_the_ladder(ledger, sink, home, monkeypatch, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: fast\nlevels:\n  - {level: 1, relative_to: due_date}\n  - {level: 2, offset_days: 15}\n"
        "  - {level: 3, offset_days: 8}\nsegments:\n"
        "  - name: quick\n    when: {amount_min: '900.00'}\n    min_gap_days: 2\n"
        "    levels:\n      - {level: 1, relative_to: due_date}\n      - {level: 2, offset_days: 3}\n"
        "      - {level: 3, offset_days: 3}\n", encoding="utf-8")
    monkeypatch.setenv("RECOUVREMENT_POLICY", str(policy))
    run("run", "--as-of", "2026-10-05")
    assert ("411DUPONT", "2") in sent_to(sink)      # 1000.00: the quick segment
    assert ("411PLAN", "2") not in sent_to(sink)    # 600.00: the base ladder


def test_a_bad_policy_file_is_a_usage_error(ledger, monkeypatch, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("levels:\n  - {level: 2, relative_to: previous_level}\n", encoding="utf-8")
    monkeypatch.setenv("RECOUVREMENT_POLICY", str(policy))
    result = CliRunner().invoke(cli, ["run", "--as-of", "2026-10-05"])
    assert result.exit_code == 2 and "policy.yaml" in result.output
    assert "the first level must count from the due date" in result.output


def test_an_acknowledgement_restarts_the_limitation_of_a_prescribed_claim(home, sink):
    inbox = home / "inbox"
    write_customers(inbox, [customer("411VIEUX")])
    write_invoices(inbox, date(2026, 10, 1), [
        invoice("V1", "411VIEUX", date(2021, 6, 1), "800.00", issued=date(2021, 5, 1))])
    out = run("run", "--as-of", "2026-10-01", "--dry-run").output
    assert "nothing for 411VIEUX: V1 prescribed: never chased" in out
    # five years from the due date, 1 June 2021 (Code civil 2233), not from the issue date
    assert "note 411VIEUX: V1 prescribed since 2026-06-01" in out
    run("run", "--as-of", "2026-10-01")
    assert sink.messages == []
    assert run("acknowledge", "V1", "--on", "2024-02-01").exit_code == 0
    assert run("acknowledge", "V1", "--on", "2020-01-01").exit_code == 2
    run("run", "--as-of", "2026-10-02")
    assert sent_to(sink) == [("411VIEUX", "1")]


def test_the_call_list_has_the_high_risk_debtors_chased_today(home, sink):
    inbox = home / "inbox"
    write_customers(inbox, [customer("411SUR", phone="0111111111"),
                            customer("411RISQUE", phone="0222222222")])
    write_invoices(inbox, date(2026, 9, 1), [
        invoice("S1", "411SUR", date(2026, 10, 1), "500.00"),
        invoice("R0", "411RISQUE", date(2026, 6, 1), "90000.00"),  # long overdue, contested
        invoice("R1", "411RISQUE", date(2026, 10, 1), "800.00")])
    run("run", "--as-of", "2026-05-29")  # loads the ledger: nothing due yet
    assert run("dispute", "open", "R0", "--reason", "quantités contestées").exit_code == 0
    day = date(2026, 10, 1)
    run("run", "--as-of", day)
    assert sorted(sent_to(sink)) == [("411RISQUE", "1"), ("411SUR", "1")]
    rows = json.loads(run("calls", "--as-of", day, "--format", "json").output)
    assert [(r["account"], r["phone"], r["level"], r["invoices"]) for r in rows] == [
        ("411RISQUE", "0222222222", 1, ["R1"])]
