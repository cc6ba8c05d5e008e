"""What the Prefect UI shows of a run: its name, its artifacts, its progress; and shards."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import sqlite3

import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.states import Failed
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.daily import daily_dunning, daily_shard, merge_summaries
from recouvrement.adapters.shards import Shard
from tasks.ledger import ingest_exports
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

DAY = date(2026, 11, 2)


@pytest.fixture
def inbox(home):
    accounts = [f"411A{i:02d}" for i in range(6)]
    write_customers(home / "inbox", [customer(a) for a in accounts])
    # 411A00 and 411A01 are 32 days late: the first reminder; the others not due yet
    # but for 411A05, whose invoice is 10 days late: first reminder too.
    write_invoices(home / "inbox", DAY, [
        invoice("F00", "411A00", date(2026, 10, 1), "1000.00"),
        invoice("F01", "411A01", date(2026, 10, 1), "250.50"),
        invoice("F02", "411A02", date(2026, 12, 1), "400.00"),
        invoice("F03", "411A03", date(2026, 12, 1), "400.00"),
        invoice("F04", "411A04", date(2026, 12, 1), "400.00"),
        invoice("F05", "411A05", date(2026, 10, 23), "99.99"),
    ])
    return home / "inbox"


def artifacts_of(flow_run_id) -> dict:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    # keyed artifacts by key, progress bars by what they count
    return {a.key or a.description: a.model_dump() for a in found}


def run_of(state):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def test_a_daily_run_is_named_for_its_day_and_leaves_a_summary_kpis_and_progress(inbox, sink):
    state = daily_dunning(as_of=DAY, return_state=True)
    assert state.is_completed()
    run = run_of(state)
    assert run.name == "daily-2026-11-02"
    found = artifacts_of(run.id)
    summary = found["daily-summary"]["data"]
    assert "| 1 reminder | 3 | 1 350.49 € | 3 | 0 |" in summary  # 1000.00 + 250.50 + 99.99
    assert "- debtors with nothing due: 3" in summary
    kpis = found["daily-kpis"]["data"]
    assert "| open invoices | 6 |" in kpis
    assert "| open receivables | 2 550.49 € |" in kpis
    assert "| overdue | 1 350.49 € (53.0 %) |" in kpis  # 1350.49 / 2550.49 = 52.950… %
    assert "| reminders sent today | 3 |" in kpis
    assert found["Debtors decided"]["data"] == 100.0
    assert found["Reminders sent"]["data"] == 100.0
    # account numbers only: no names or e-mail addresses in what the UI shows
    assert "SARL" not in summary + kpis and "example.com" not in summary + kpis


def test_a_rerun_is_named_for_its_debtor(inbox, sink):
    daily_dunning(as_of=DAY)
    state = daily_dunning(as_of=DAY, debtor="411A00", return_state=True)
    assert run_of(state).name == "rerun-411A00"
    assert "Daily run of 2026-11-02 for 411A00" in artifacts_of(run_of(state).id)[
        "daily-summary"]["data"]


def test_shards_together_send_what_one_run_sends_each_once(inbox, sink):
    ingest_exports(DAY, "test", None, None)
    parts = [daily_shard(as_of=DAY, shard=i, shards=2) for i in range(2)]
    merged = merge_summaries(parts)
    assert Counter(m["X-Recouvrement-Debtor"] for m in sink.messages) == {
        "411A00": 1, "411A01": 1, "411A05": 1}
    assert sorted(s["account"] for s in merged["send"]["sent"]) == ["411A00", "411A01", "411A05"]
    assert merged["plan"]["nothing_due"] == 3
    decided = [{p["account"] for p in part["plan"]["planned"]} | {
        n["account"] for n in part["plan"]["nothing"]} for part in parts]
    assert decided[0] and decided[1] and not decided[0] & decided[1]  # each debtor in one shard
    assert decided[0] | decided[1] == {f"411A{i:02d}" for i in range(6)}
    # a second pass of the shards, or the whole run, sends nothing more
    daily_dunning(as_of=DAY)
    assert len(sink.messages) == 3


def test_merge_adds_counts_and_joins_lists():
    parts = [{"plan": {"planned": [1], "nothing_due": 2, "reasons": {"paused": 1}}, "not_ready": 1},
             {"plan": {"planned": [2, 3], "nothing_due": 0, "reasons": {"dispute": 2}},
              "not_ready": 0}]
    assert merge_summaries(parts) == {
        "plan": {"planned": [1, 2, 3], "nothing_due": 2, "reasons": {"paused": 1, "dispute": 2}},
        "not_ready": 1}


def test_a_shard_outside_its_count_is_refused():
    with pytest.raises(ValueError, match="shard 2 of 2"):
        Shard(2, 2)


def test_a_database_hiccup_is_retried_and_the_run_completes(inbox, sink, monkeypatch):
    import tasks.dunning
    from sqlalchemy.exc import OperationalError

    real, calls = tasks.dunning.plan_reminders, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, ConnectionResetError("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.dunning, "plan_reminders", flaky)
    assert daily_dunning(as_of=DAY, return_state=True).is_completed()
    assert len(calls) == 2 and len(sink.messages) == 3


def test_a_failed_step_is_named_exits_1_and_the_next_run_takes_up_the_rest(inbox, sink,
                                                                             monkeypatch):
    import tasks.dunning
    from click.testing import CliRunner
    from sqlalchemy import select

    from recouvrement.entrypoints.cli import main as cli
    from recouvrement.adapters.db import open_database
    from recouvrement.adapters.db.models import Reminder
    from recouvrement.config.settings import load_settings

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the relay's certificate is not trusted")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.dunning, "send_outbox", broken)
        failed = CliRunner().invoke(cli, ["run", "--as-of", DAY.isoformat()])
    assert failed.exit_code == 1
    assert ("Run failed: the run stopped at step send-reminders: RuntimeError: the relay's "
            "certificate is not trusted") in failed.output
    assert len(calls) == 1, "not a database hiccup: not retried"
    with open_database(load_settings().database_url).session() as session:
        assert {r.status for r in session.scalars(select(Reminder))} == {"planned"}
    assert sink.messages == []

    again = CliRunner().invoke(cli, ["run", "--as-of", DAY.isoformat()])
    assert again.exit_code == 0, again.output
    assert sorted(m["X-Recouvrement-Debtor"] for m in sink.messages) == ["411A00", "411A01",
                                                                          "411A05"]


def test_the_run_logs_name_debtors_by_account_and_never_by_address(inbox, sink, monkeypatch):
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    monkeypatch.setenv("RECOUVREMENT_SMTP_RETRIES", "0")
    sink.fail_next(450, count=10, at="rcpt")  # "mailbox busy": deferred, the address echoed
    state = daily_dunning(as_of=DAY, return_state=True)
    APILogHandler().flush()  # logs reach the API in batches
    with get_client(sync_client=True) as client:
        logs = [log.message for log in client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))]
    failures = [m for m in logs if "not sent" in m]
    assert len(failures) == 3 and any("Reminder for 411A00 (level 1)" in m for m in failures)
    assert all("<address>" in m for m in failures)
    assert not [m for m in logs if "example.com" in m or "SARL" in m]


@pytest.mark.parametrize("orig, retried", [
    (psycopg.errors.DeadlockDetected("deadlock detected"), True),
    (psycopg.errors.SerializationFailure("could not serialize access"), True),
    (psycopg.errors.AdminShutdown("terminating connection"), True),
    (psycopg.OperationalError("connection failed: Connection refused"), True),
    (psycopg.OperationalError('connection failed: FATAL:  database "x" does not exist'), False),
    (psycopg.errors.UndefinedTable('relation "debtors" does not exist'), False),
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("no such table: debtors"), False),
    (ConnectionResetError("server closed the connection"), True),
])
def test_only_passing_database_troubles_are_retried(orig, retried):
    from sqlalchemy.exc import DBAPIError

    from tasks.retries import transient

    error = DBAPIError.instance("SELECT 1", {}, orig, Exception)
    assert transient(None, None, Failed(data=error)) is retried
    assert transient(None, None, Failed(data=ValueError("a bug"))) is False


def test_a_daily_run_writes_the_report_and_sums_it_up_in_the_ui(inbox, sink, home, monkeypatch):
    monkeypatch.delenv("RECOUVREMENT_DAILY_REPORT")  # on by default
    state = daily_dunning(as_of=DAY, return_state=True)
    page = home / "reports" / "dashboard" / "rapport-2026-11-02.html"
    assert state.result()["report"] == str(page) and page.exists()
    assert "Balance âgée" in page.read_text(encoding="utf-8")
    headline = artifacts_of(run_of(state).id)["collection-dashboard"]["data"]
    assert "| receivables | €2,550.49 |" in headline
    assert "| overdue | €1,350.49 (53.0 %) |" in headline
    assert page.as_uri() in headline  # the link to the whole report
    assert "SARL" not in headline and "example.com" not in headline


def test_the_weekly_report_is_written_as_html_and_pdf_and_mailed(inbox, sink, home, monkeypatch):
    from flows.report import weekly_report

    daily_dunning(as_of=DAY)
    before = len(sink.messages)
    monkeypatch.setenv("RECOUVREMENT_REPORT_RECIPIENTS", "dg@creancier.example.com, "
                                                         "credit@creancier.example.com")
    result = weekly_report(as_of=DAY)
    assert [Path(f).suffix for f in result["files"]] == [".html", ".pdf"]
    assert all(Path(f).exists() for f in result["files"]) and result["mailed_to"] == 2
    mail = sink.messages[before]
    assert mail["Subject"] == "Tableau de bord du recouvrement — 2026-11-02"
    assert sorted(a.get_filename() for a in mail.iter_attachments()) == [
        "rapport-2026-11-02.html", "rapport-2026-11-02.pdf"]
