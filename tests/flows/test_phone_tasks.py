"""Phone tasks through the commands and the daily run, as a collector works them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from tests.factories import customer, invoice, write_customers, write_invoices
from tests.flows.test_runs_in_prefect import artifacts_of

pytestmark = [pytest.mark.flow]

# The creditor's policy calls every debtor at the first reminder.
POLICY = """\
name: calls-first
levels:
  - {level: 1, offset_days: 0, relative_to: due_date, channels: [email, phone], template: level1}
  - {level: 2, offset_days: 15, relative_to: previous_level, channels: [email, letter],
     template: level2}
  - {level: 3, offset_days: 8, relative_to: previous_level, channels: [email, letter],
     template: level3}
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def ledger(home, monkeypatch, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    monkeypatch.setenv("RECOUVREMENT_POLICY", str(tmp_path / "policy.yaml"))
    inbox = home / "inbox"
    write_customers(inbox, [customer("411DUPONT", phone="01 02 03 04 05"), customer("411MARTIN")])
    write_invoices(inbox, date(2026, 10, 1), [
        invoice("F1", "411DUPONT", date(2026, 10, 1), "1000.00"),
        invoice("M1", "411MARTIN", date(2026, 10, 1), "300.00")])
    assert run("run", "--as-of", "2026-10-01").exit_code == 0
    return inbox


def calls(day):
    result = run("calls", "--as-of", day, "--format", "json")
    assert result.exit_code == 0, result.output
    return {r["account"]: r for r in json.loads(result.output)}


def test_a_collector_works_the_worklist_and_a_promise_pauses_the_ladder(ledger, sink):
    from flows.daily import daily_dunning

    worklist = calls("2026-10-01")
    assert set(worklist) == {"411DUPONT", "411MARTIN"}
    dupont = worklist["411DUPONT"]
    assert (dupont["phone"], dupont["open_amount"], dupont["invoices"]) == (
        "01 02 03 04 05", "1000.00", ["F1"])
    assert dupont["last_contact"] == {"on": "2026-10-01", "channel": "email", "level": 1}

    # Nobody called on the 1st: the next run carries both, and its summary says so.
    state = daily_dunning(as_of=date(2026, 10, 2), return_state=True)
    summary = artifacts_of(state.state_details.flow_run_id)["daily-summary"]["data"]
    assert "- phone tasks to work: 2 (0 of the day, 2 carried from an earlier day" in summary
    assert "| 411DUPONT | 1 | 2026-10-01 | 1 |" in summary
    assert calls("2026-10-02")["411DUPONT"]["status"] == "carried"

    table = run("calls", "--as-of", "2026-10-02").output
    assert "411DUPONT" in table and "carried" in table and "01 02 03 04 05" in table

    logged = run("call", "log", "411DUPONT", "--outcome", "promise", "--until", "2026-10-20",
                 "--note", "virement le 20", "--as-of", "2026-10-02")
    assert logged.exit_code == 0, logged.output
    assert "promise to pay until 2026-10-20: dunning paused" in logged.output
    assert run("call", "log", "411MARTIN", "--outcome", "dispute", "--as-of",
               "2026-10-02").exit_code == 0
    assert calls("2026-10-02") == {}
    out = run("run", "--as-of", "2026-10-16").output  # level 2 would be due: L1 + 15 days
    assert "skipped 411DUPONT: promise to pay until 2026-10-20" in out
    assert [m["X-Recouvrement-Debtor"] for m in sink.messages].count("411MARTIN") == 1

    again = run("call", "log", "411DUPONT", "--outcome", "answered", "--as-of", "2026-10-02")
    assert again.exit_code == 0
    assert "no phone task was open; the call is recorded all the same" in again.output
    assert run("call", "log", "411DUPONT", "--outcome", "promise").exit_code == 2
    events = run("audit", "show", "--debtor", "411DUPONT", "--format", "json").output
    assert events.count('"call.logged"') == 2 and '"call.carried"' in events
