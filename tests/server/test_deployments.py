"""prefect.yaml deployed on a real Prefect server, run by a process worker, as in production."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from prefect.client.schemas.objects import StateType

from tests.factories import customer, invoice, write_customers, write_invoices
from tests.server.harness import POOL, REPO

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.postgres]

LOADED = date(2026, 9, 30)  # nothing due yet: the daily run only loads the ledger
DAY = date(2026, 11, 2)  # a Monday, a month after the invoices fell due


def test_deployments_are_on_the_pool_with_the_daily_schedule(deployments):
    with deployments.client() as client:
        daily = client.read_deployment_by_name("daily-dunning/daily")
        rerun = client.read_deployment_by_name("daily-dunning/rerun-debtor")
        backfill = client.read_deployment_by_name("backfill/backfill")
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in daily.schedules] == [
        ("0 7 * * 1-5", "Europe/Paris", True)]
    assert daily.global_concurrency_limit.limit == 1  # never two daily runs at once
    assert daily.concurrency_options.collision_strategy == "ENQUEUE"  # the later one waits
    assert rerun.schedules == [] and backfill.schedules == []
    assert {d.work_pool_name for d in (daily, rerun, backfill)} == {POOL}
    # The worker runs the code of the checkout `prefect deploy` was run from.
    assert rerun.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
        "directory": str(REPO)}}]
    assert set(rerun.parameter_openapi_schema["properties"]) >= {"as_of", "debtor", "dry_run"}


def test_the_weekly_report_is_deployed_for_monday_mornings(deployments):
    with deployments.client() as client:
        weekly = client.read_deployment_by_name("weekly-report/weekly-report")
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in weekly.schedules] == [
        ("0 8 * * 1", "Europe/Paris", True)]
    assert weekly.work_pool_name == POOL


def test_the_scheduler_plans_the_daily_run_at_seven_on_business_mornings(deployments):
    paris = ZoneInfo("Europe/Paris")
    starts = [r.expected_start_time.astimezone(paris)
              for r in deployments.scheduled_runs("daily-dunning/daily")]
    assert len(starts) >= 3, "the server's scheduler made no run: see its log below"
    assert all((s.hour, s.minute, s.weekday() < 5) == (7, 0, True) for s in starts), starts


@pytest.fixture
def ledger(home):
    write_customers(home / "inbox", [customer("411DUPONT"), customer("411MARTIN"),
                                     customer("411123")])
    write_invoices(home / "inbox", DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                         invoice("F2", "411MARTIN", date(2026, 10, 2)),
                                         invoice("F3", "411123", date(2026, 10, 2))])
    return home


def debtors(sink) -> list[str]:
    return [m["X-Recouvrement-Debtor"] for m in sink.messages]


def levels(summary: str) -> list[int]:
    """The levels in the rows of the summary's table ("| 1 | …" or "| 1 reminder | …")."""
    return [int(level) for level in re.findall(r"^\| (\d)\b", summary, re.MULTILINE)]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_rerun_from_the_cli_sends_that_debtors_reminder_only_once(ledger, sink,
                                                                    prefect_server, start_worker):
    server = prefect_server
    start_worker()
    loaded = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={LOADED}"))
    assert loaded.state.type == StateType.COMPLETED, loaded.state.message
    assert loaded.name == f"daily-{LOADED}" and debtors(sink) == []

    by_text = server.wait(server.run_deployment(
        "daily-dunning/rerun-debtor", "debtor=411MARTIN", f"as_of={DAY}"))
    assert (by_text.name, by_text.state.type) == ("rerun-411MARTIN", StateType.COMPLETED)
    assert debtors(sink) == ["411MARTIN"]
    summary = server.summary_artifact(by_text.id)
    assert "for 411MARTIN" in summary and levels(summary) == [1]

    # `--param debtor=411123` is read as JSON: the flow receives the number 411123.
    by_number = server.wait(server.run_deployment(
        "daily-dunning/rerun-debtor", "debtor=411123", f"as_of={DAY}"))
    assert by_number.parameters["debtor"] == 411123
    assert (by_number.name, by_number.state.type) == ("rerun-411123", StateType.COMPLETED)
    assert debtors(sink) == ["411MARTIN", "411123"]
    assert "for 411123" in server.summary_artifact(by_number.id)

    # The same account as text, a second time: its reminder is already sent.
    again = server.wait(server.run_deployment(
        "daily-dunning/rerun-debtor", 'debtor="411123"', f"as_of={DAY}"))
    assert (again.name, again.state.type) == ("rerun-411123", StateType.COMPLETED)
    assert debtors(sink) == ["411MARTIN", "411123"]
    summary = server.summary_artifact(again.id)
    assert levels(summary) == [] and "debtors with nothing due: 1" in summary


def test_a_rerun_for_a_debtor_not_in_the_ledger_fails_and_names_it(home, sink, prefect_server,
                                                                   start_worker):
    # 411NEW is in today's exports, but no daily run has loaded them yet.
    write_customers(home / "inbox", [customer("411NEW")])
    write_invoices(home / "inbox", DAY, [invoice("F1", "411NEW", date(2026, 10, 1))])
    start_worker()
    failed = prefect_server.wait(prefect_server.run_deployment(
        "daily-dunning/rerun-debtor", "debtor=411NEW", f"as_of={DAY}"))
    assert (failed.name, failed.state.type) == ("rerun-411NEW", StateType.FAILED)
    assert "UnknownDebtor: no debtor '411NEW' in the ledger" in failed.state.message
    assert "loaded by the daily run" in failed.state.message  # what to do about it
    assert debtors(sink) == []
