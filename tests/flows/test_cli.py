"""The `recouvrement` command as a user runs it, through the Prefect flow."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, ImportBatch, Reminder
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

DAY = date(2026, 11, 2)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def inbox(home):
    write_customers(home / "inbox", [customer("411DUPONT"), customer("411MARTIN", language="en")])
    write_invoices(home / "inbox", DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                         invoice("F2", "411MARTIN", date(2026, 10, 2))])
    return home / "inbox"


def count(database_url, model):
    with open_database(database_url).session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_run_sends_once_and_a_second_run_the_same_day_sends_nothing(inbox, sink, database_url):
    first = run("run", "--as-of", DAY)
    assert first.exit_code == 0, first.output
    assert "planned level 1 to 411DUPONT: F1" in first.output and "sent: 2" in first.output
    assert sorted(m["X-Recouvrement-Debtor"] for m in sink.messages) == ["411DUPONT", "411MARTIN"]
    english = next(m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411MARTIN")
    assert "reminder" in english["Subject"].lower()

    second = run("run", "--as-of", DAY)
    assert second.exit_code == 0 and "sent: 0" in second.output
    assert len(sink.messages) == 2

    debtors = json.loads(run("debtors", "--format", "json").output)
    assert [(d["account"], d["open_amount"], d["level"]) for d in debtors] == [
        ("411DUPONT", "1200.00", 1), ("411MARTIN", "1200.00", 1)]
    assert all(0 <= d["risk_score"] <= 100 and d["risk_class"] for d in debtors)


def test_dry_run_reports_and_records_nothing(inbox, sink, database_url):
    result = run("run", "--as-of", DAY, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would send level 1 to 411DUPONT: F1" in result.output
    assert sink.messages == []
    for model in (Reminder, ImportBatch, AuditEntry):
        assert count(database_url, model) == 0


def test_rerun_for_one_debtor_touches_only_that_debtor(inbox, sink):
    assert run("run", "--as-of", "2026-09-30").exit_code == 0  # the daily run loads the ledger
    result = run("run", "--as-of", DAY, "--debtor", "411MARTIN")
    assert result.exit_code == 0, result.output
    assert [m["X-Recouvrement-Debtor"] for m in sink.messages] == ["411MARTIN"]


def test_a_rerun_for_an_unknown_account_is_a_usage_error(inbox, sink, database_url):
    assert run("run", "--as-of", DAY).exit_code == 0
    result = CliRunner().invoke(cli, ["run", "--as-of", str(DAY), "--debtor", "411NOBODY"])
    assert result.exit_code == 2 and "no debtor '411NOBODY' in the ledger" in result.output


def test_a_bad_file_stops_the_run_with_exit_2_and_changes_nothing(inbox, sink, database_url):
    (inbox / "invoices_broken.csv").write_text("invoice_number;account\nF9;411DUPONT\n")
    result = CliRunner().invoke(cli, ["run", "--as-of", str(DAY)])
    assert result.exit_code == 2
    assert "invoices_broken.csv: missing required column(s) issue_date" in result.output
    assert sink.messages == [] and count(database_url, ImportBatch) == 0


def test_a_failed_send_exits_1_and_is_retried_by_the_next_run(inbox, sink, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_SMTP_RETRIES", "0")
    sink.fail_next(451, count=2)
    result = run("run", "--as-of", DAY)
    assert result.exit_code == 1 and result.output.count("FAILED") == 2
    retry = run("run", "--as-of", DAY)
    assert retry.exit_code == 0 and "sent: 2" in retry.output
    assert len(sink.messages) == 2


def test_dispute_commands_pause_and_resume_dunning(inbox, sink):
    assert run("run", "--as-of", "2026-09-30").exit_code == 0  # loads the ledger; nothing due yet
    assert run("dispute", "open", "F1", "--reason", "livraison incomplète").exit_code == 0
    assert run("dispute", "open", "F1", "--reason", "again").exit_code == 2
    run("run", "--as-of", DAY)
    assert [m["X-Recouvrement-Debtor"] for m in sink.messages] == ["411MARTIN"]
    assert run("dispute", "close", "F1").exit_code == 0
    assert run("dispute", "close", "NOPE").exit_code == 2
    shown = run("audit", "show", "--debtor", "411DUPONT").output
    assert "invoice.dispute_opened" in shown and "invoice.dispute_closed" in shown


def test_backfill_replays_the_weekdays_in_order(inbox, sink):
    from flows.backfill import backfill

    days = backfill(date(2026, 10, 30), date(2026, 11, 3))  # Fri, (Sat, Sun), Mon, Tue
    assert [d["as_of"] for d in days] == ["2026-10-30", "2026-11-02", "2026-11-03"]
    assert sum(d["sent"] for d in days) == 2 == len(sink.messages)
    with pytest.raises(ValueError, match="before start"):
        backfill(date(2026, 11, 3), date(2026, 11, 2))
