"""The user reads one line; the traceback goes to $RECOUVREMENT_HOME/logs/recouvrement.log.

Run as a user runs it, in a process of its own (Prefect prints to the real
stderr, which an in-process runner would not see), against one test server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import CREDITOR_ENV

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.flow]


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    if PREFECT_API_URL.value():  # tests/flows' harness is up already: use it
        yield PREFECT_API_URL.value()
        return
    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def command(home: Path, api: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOUVREMENT_")}
    environment.update(CREDITOR_ENV)  # a complete identity: the run gets to the error tested
    environment.update(RECOUVREMENT_HOME=str(home), PREFECT_API_URL=api,
                       PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "recouvrement.entrypoints.cli", *args], cwd=home.parent,
                          env=environment, capture_output=True, text=True, timeout=300)


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


def logged(home: Path) -> str:
    return (home / "logs" / "recouvrement.log").read_text()


def test_a_rerun_for_an_unknown_account_is_one_line(tmp_path, prefect_api):
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    result = command(home, prefect_api, "run", "--as-of", "2026-11-02", "--debtor", "411NOBODY")
    assert result.returncode == 2
    assert one_line(result).startswith("error: no debtor '411NOBODY' in the ledger")
    assert "Traceback" in logged(home) and "UnknownDebtor" in logged(home)


def test_a_bad_policy_file_is_one_line(tmp_path, prefect_api):
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: x\nlevels:\n  - {level: 2, offset_days: 0}\n"
                      "  - {level: 1, offset_days: 3}\n")
    result = command(home, prefect_api, "run", "--as-of", "2026-11-02",
                     RECOUVREMENT_POLICY=str(policy))
    assert result.returncode == 2
    assert "levels must be listed in increasing order" in one_line(result)


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged(tmp_path, prefect_api):
    home = tmp_path / "home"
    home.mkdir()
    (home / "recouvrement.db").write_bytes(b"not a database, but a file someone put here" * 50)
    result = command(home, prefect_api, "debtors")
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("error: ") and f"details in {home / 'logs' / 'recouvrement.log'}" in line
    assert "Traceback" in logged(home)
    assert (home / "logs" / "recouvrement.log").stat().st_mode & 0o077 == 0
