"""A daily run split into two shards, run by two workers on a real server: each reminder once."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import StateType

from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]

DAY = date(2026, 11, 2)
ACCOUNTS = [f"411W{i:02d}" for i in range(12)]


def submitted(worker) -> set[str]:
    """The flow runs a worker ran, from its own log: the runs' own "View at …/ID" lines.

    Not its "submitting flow run" lines: two workers may both try to take the
    same scheduled run, and only one of them gets it.
    """
    return set(re.findall(r"/runs/flow-run/([0-9a-f-]{36})",
                          worker.log.read_text(errors="replace")))


def test_two_workers_run_one_shard_each_and_every_reminder_goes_once(home, sink, prefect_server,
                                                                     start_worker):
    write_customers(home / "inbox", [customer(a) for a in ACCOUNTS])
    write_invoices(home / "inbox", DAY, [invoice(f"F{i:02d}", a, date(2026, 10, 1))
                                         for i, a in enumerate(ACCOUNTS)])
    server = prefect_server
    # One run at a time each: the daily run does shard 1, so shard 2 must go to the other.
    workers = [start_worker(limit=1), start_worker(limit=1)]
    daily = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={DAY}", "shards=2"),
                        timeout=300)
    assert (daily.name, daily.state.type) == (f"daily-{DAY}", StateType.COMPLETED), \
        daily.state.message

    assert Counter(m["X-Recouvrement-Debtor"] for m in sink.messages) == {a: 1 for a in ACCOUNTS}
    with server.client() as client:
        shards = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[daily.id])))
    assert sorted(s.name for s in shards) == [f"daily-{DAY}-shard-1-of-2",
                                              f"daily-{DAY}-shard-2-of-2"]
    assert {s.state.type for s in shards} == {StateType.COMPLETED}
    remote = next(s for s in shards if s.name.endswith("2-of-2"))
    took_daily = next(w for w in workers if str(daily.id) in submitted(w))
    took_shard = next(w for w in workers if str(remote.id) in submitted(w))
    assert took_daily is not took_shard, "the second shard ran on the other worker"

    summary = server.summary_artifact(daily.id)
    assert "(2 shards)" in summary and "| 1 reminder | 12 |" in summary

    again = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={DAY}", "shards=2"),
                        timeout=300)
    assert again.state.type == StateType.COMPLETED and len(sink.messages) == len(ACCOUNTS)


def test_a_shard_no_worker_takes_fails_the_run_and_the_next_run_sends_the_rest_once(
        home, sink, prefect_server, start_worker):
    write_customers(home / "inbox", [customer(a) for a in ACCOUNTS])
    write_invoices(home / "inbox", DAY, [invoice(f"F{i:02d}", a, date(2026, 10, 1))
                                         for i, a in enumerate(ACCOUNTS)])
    server = prefect_server
    start_worker(limit=1)  # busy with the daily run itself: nobody for the second shard
    daily = server.wait(server.run_deployment(
        "daily-dunning/daily", f"as_of={DAY}", "shards=2", "shard_start_minutes=0.1"), timeout=300)
    assert daily.state.type == StateType.FAILED
    assert "shard 2/2" in daily.state.message and "no worker took it" in daily.state.message
    first = Counter(m["X-Recouvrement-Debtor"] for m in sink.messages)
    assert 0 < len(first) < len(ACCOUNTS) and set(first.values()) == {1}  # shard 1 went out

    again = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={DAY}"), timeout=300)
    assert again.state.type == StateType.COMPLETED, again.state.message
    assert Counter(m["X-Recouvrement-Debtor"] for m in sink.messages) == {a: 1 for a in ACCOUNTS}


def test_a_shard_on_a_machine_of_its_own_hands_its_summary_back_through_the_ledger(
        home, sink, prefect_server, start_worker, tmp_path):
    """Two workers sharing only the database URL, the Prefect API URL and the SMTP relay."""
    import time

    write_customers(home / "inbox", [customer(a) for a in ACCOUNTS])
    write_invoices(home / "inbox", DAY, [invoice(f"F{i:02d}", a, date(2026, 10, 1))
                                         for i, a in enumerate(ACCOUNTS)])
    server = prefect_server
    here = start_worker(limit=1)  # the machine that receives the exports
    daily_id = server.run_deployment("daily-dunning/daily", f"as_of={DAY}", "shards=2")
    deadline = time.monotonic() + 240
    while str(daily_id) not in submitted(here):  # the daily run is on this machine
        assert time.monotonic() < deadline, "the first worker never took the daily run"
        time.sleep(0.5)
    elsewhere = tmp_path / "other-machine"
    (elsewhere / "home").mkdir(parents=True)
    # The audit key is what a second machine gets from the first, beside the URLs: every
    # worker signs the same log (README, "More than one worker").
    other = start_worker(limit=1, env={"PREFECT_HOME": str(elsewhere / "prefect"),
                                       "RECOUVREMENT_HOME": str(elsewhere / "home"),
                                       "RECOUVREMENT_AUDIT_KEY_FILE": str(home / "keys" / "audit.key")})
    daily = server.wait(daily_id, timeout=300)
    assert daily.state.type == StateType.COMPLETED, daily.state.message
    with server.client() as client:
        shards = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[daily.id])))
    remote = next(s for s in shards if s.name.endswith("2-of-2"))
    assert str(remote.id) in submitted(other)
    assert Counter(m["X-Recouvrement-Debtor"] for m in sink.messages) == {a: 1 for a in ACCOUNTS}
    summary = server.summary_artifact(daily.id)
    assert "(2 shards)" in summary and "| 1 reminder | 12 |" in summary
    # Nothing went through the other machine's disk for the daily run to read.
    assert not list((elsewhere / "prefect").glob("storage/*"))
