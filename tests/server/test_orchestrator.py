"""Which Prefect server `recouvrement` runs on, as a user runs it: real processes.

`recouvrement server start|status|stop` keeps one local server for a home;
`run` reports to PREFECT_API_URL, else to that server, else to a temporary one
it starts with a retry; with none to be had it exits 1 in one line having
changed nothing. A run without a new export never imports Great Expectations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, ImportBatch
from recouvrement.adapters.mail.sink import free_port
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.slow, pytest.mark.server]

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 2)


def cli(*args, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`recouvrement ARGS…` in a new process, with the test's environment (and `env`)."""
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [base.get("PYTHONPATH")])])
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "recouvrement.entrypoints.cli", *map(str, args)], env=base,
                          capture_output=True, text=True, timeout=timeout)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    """`recouvrement server start` on a home of its own; stopped at the end of the module."""
    home = tmp_path_factory.mktemp("server-home")
    env = {"RECOUVREMENT_HOME": str(home)}
    started = cli("server", "start", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    state = json.loads((home / "prefect" / "server.json").read_text())
    try:
        yield home, env, state
    finally:
        cli("server", "stop", env=env)


@pytest.fixture
def inbox(home):
    write_customers(home / "inbox", [customer("411DUPONT"), customer("411MARTIN")])
    write_invoices(home / "inbox", DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                         invoice("F2", "411MARTIN", date(2026, 10, 2))])
    return home / "inbox"


def count(database_url, model) -> int:
    with open_database(database_url).session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_server_start_status_stop_keep_one_server_for_the_home(local_server):
    home, env, state = local_server
    url = f"http://127.0.0.1:{state['port']}"
    assert alive(state["pid"])
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    assert httpx.get(url, timeout=10).status_code == 200  # the UI
    # ... which asks its API at the server's own port
    assert httpx.get(f"{url}/ui-settings", timeout=10).json()["api_url"] == f"{url}/api"

    status = cli("server", "status", env=env)
    assert status.returncode == 0 and f"UI {url}" in status.stdout
    again = cli("server", "start", env=env)
    assert again.returncode == 0 and "already up" in again.stdout
    assert f"pid {state['pid']}" in again.stdout
    assert (home / "prefect" / "server.log").exists()  # its own PREFECT_HOME under the home


def test_server_stop_ends_it_and_status_says_so(tmp_path):
    env = {"RECOUVREMENT_HOME": str(tmp_path)}
    assert cli("server", "start", env=env).returncode == 0
    pid = json.loads((tmp_path / "prefect" / "server.json").read_text())["pid"]
    stopped = cli("server", "stop", env=env)
    assert stopped.returncode == 0 and f"stopped (pid {pid})" in stopped.stdout
    assert not alive(pid)
    status = cli("server", "status", env=env)
    assert status.returncode == 3 and "not running" in status.stdout


def test_a_run_reports_to_the_local_server_of_its_home(local_server, home, sink, database_url):
    server_home, env, state = local_server
    (server_home / "inbox").mkdir(exist_ok=True)
    write_customers(server_home / "inbox", [customer("411DUPONT")])
    write_invoices(server_home / "inbox", DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    result = cli("run", "--as-of", DAY, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent: 1" in result.stdout
    runs = httpx.post(f"http://127.0.0.1:{state['port']}/api/flow_runs/filter",
                      json={"limit": 50}, timeout=30).json()
    assert "daily-2026-11-02" in [r["name"] for r in runs]


def test_a_second_run_on_the_same_inbox_does_not_import_great_expectations(
        local_server, inbox, sink, database_url):
    _home, _env, state = local_server
    env = {"PREFECT_API_URL": f"http://127.0.0.1:{state['port']}/api"}
    # `python -X importtime` writes every module imported to stderr, by name.
    command = [sys.executable, "-X", "importtime", "-m", "recouvrement.entrypoints.cli", "run", "--as-of",
               str(DAY)]
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base.update(env, PYTHONPATH=str(REPO))
    first = subprocess.run(command, env=base, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert "| great_expectations\n" in first.stderr  # the new files were validated with it
    second = subprocess.run(command, env=base, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert "sent: 0" in second.stdout
    imported = [line for line in second.stderr.splitlines() if "great_expectations" in line]
    assert imported == []


def test_a_run_with_prefect_api_url_at_nothing_exits_1_in_one_line_and_changes_nothing(
        inbox, database_url):
    url = f"http://127.0.0.1:{free_port()}/api"
    result = cli("run", "--as-of", DAY, env={"PREFECT_API_URL": url,
                                             "RECOUVREMENT_PREFECT_STARTUP_TIMEOUT_SECONDS": "2"})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"no Prefect server answers at {url}" in result.stderr
    assert result.stdout == ""
    for model in (ImportBatch, AuditEntry):
        assert count(database_url, model) == 0


HANG_FIRST_SERVER = textwrap.dedent("""
    # Test hook: the first Prefect API server started with this on PYTHONPATH never
    # answers (as on a machine too busy to start it in time); the next ones start.
    import os, sys, time
    marker = os.environ.get("TEST_HANG_FIRST_SERVER")
    if marker and "prefect.server.api.server:create_app" in sys.orig_argv:
        if not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(3600)
""")


def test_a_run_succeeds_when_the_temporary_server_is_too_slow_to_start_the_first_time(
        tmp_path, inbox, sink, database_url):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HANG_FIRST_SERVER)
    marker = tmp_path / "first-server-started"
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{hooks}", "TEST_HANG_FIRST_SERVER": str(marker),
           # Prefect's own knob: each attempt waits this long, the retry twice as long.
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
           "PREFECT_HOME": str(tmp_path / "prefect-home")}
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base.update(env)
    result = subprocess.run([sys.executable, "-m", "recouvrement.entrypoints.cli", "run", "--as-of",
                             str(DAY)], env=base, capture_output=True, text=True, timeout=900)
    assert marker.exists()  # the first server was started, and hung
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "sent: 2" in result.stdout
    assert len(sink.messages) == 2
