"""Agency mode on a real Prefect server and a process worker: the daily deployment without
`creditor` runs each registered creditor as its own child run, in its own PostgreSQL schema;
the rerun deployment takes the creditor as a parameter."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from prefect.client.schemas.objects import StateType

from recouvrement.entrypoints.cli import main as cli
from tests.flows.test_agency_run import REGISTER, agency_env, overlapping_exports

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.postgres]

DAY = date(2026, 10, 1)


def reminders(sink) -> list:
    return [m for m in sink.messages if m["X-Recouvrement-Debtor"]]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_daily_deployment_runs_every_creditor_on_the_worker(home, sink, monkeypatch,
                                                                prefect_server, start_worker):
    agency_env(monkeypatch)
    assert CliRunner().invoke(cli, ["creditor", "import", str(REGISTER)]).exit_code == 0
    overlapping_exports(home)
    start_worker()
    server = prefect_server
    daily = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={DAY}"))
    assert daily.state.type == StateType.COMPLETED, daily.state.message
    # The reminders, from each creditor's sender (the agency's own mail to its creditors,
    # reports and R124-5 digests on their schedule, goes besides, from the agency's).
    assert sorted(m["From"] for m in reminders(sink)) == [
        "relances-atelier-nord@agence.example.com",
        "relances-sud-bureautique@agence.example.com"]
    with server.client() as client:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[daily.id])))
    assert sorted((r.name, r.parameters.get("creditor")) for r in children) == [
        (f"daily-atelier-nord-{DAY}", "atelier-nord"),
        (f"daily-sud-bureautique-{DAY}", "sud-bureautique")]

    # A rerun for one debtor of one creditor: its reminder is sent already, nothing more.
    rerun = server.wait(server.run_deployment(
        "daily-dunning/rerun-debtor", "debtor=411DUPONT", 'creditor="sud-bureautique"',
        f"as_of={DAY}"))
    assert (rerun.name, rerun.state.type) == ("rerun-sud-bureautique-411DUPONT",
                                              StateType.COMPLETED)
    assert len(reminders(sink)) == 2
    # Without the creditor, a rerun for one debtor is refused: which creditor's 411DUPONT?
    refused = server.wait(server.run_deployment(
        "daily-dunning/rerun-debtor", "debtor=411DUPONT", f"as_of={DAY}"))
    assert refused.state.type == StateType.FAILED
    assert "names its creditor" in refused.state.message
