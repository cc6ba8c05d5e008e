"""A run killed while sending must not keep the relay from the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from email import message_from_bytes

import pytest
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Reminder
from tests.conftest import BACKENDS
from tests.factories import CREDITOR_ENV, customer, invoice, write_customers, write_invoices
from tests.security.relays import Relay

pytestmark = [pytest.mark.smtp, pytest.mark.slow,
              pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)
DEBTORS, BEFORE_THE_STALL = 10, 4
MINUTES = 6 * 60  # a run that waits on a slot held by the dead one never ends: fail instead


def cli_env(home, database_url, relay, prefect_home) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RECOUVREMENT_", "PREFECT_")) or k.startswith("RECOUVREMENT_TEST")}
    env.update({
        "RECOUVREMENT_HOME": str(home), "RECOUVREMENT_DATABASE_URL": database_url,
        "RECOUVREMENT_SMTP_HOST": "127.0.0.1", "RECOUVREMENT_SMTP_PORT": str(relay.port),
        "RECOUVREMENT_SMTP_TIMEOUT": "900",  # the stalled message waits, it does not time out
        **CREDITOR_ENV,
        # Both runs share one Prefect home: its database is where a slot would stay held.
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    return env


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its temporary Prefect server)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


def test_a_run_killed_mid_send_leaves_nothing_held_and_the_next_sends_the_rest_once(
        tmp_path, database_url, monkeypatch):
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    accounts = [f"411S{i:02d}" for i in range(DEBTORS)]
    write_customers(home / "inbox", [customer(a) for a in accounts])
    write_invoices(home / "inbox", DAY, [invoice(f"S{i:02d}", a, date(2026, 10, 1))
                                         for i, a in enumerate(accounts)])
    command = [sys.executable, "-m", "recouvrement.entrypoints.cli", "run", "--as-of", DAY.isoformat()]
    repo = os.getcwd()
    with Relay(require_auth=False, stall_after=BEFORE_THE_STALL) as relay:
        env = cli_env(home, database_url, relay, tmp_path / "prefect")
        first = subprocess.Popen(command, env=env, cwd=repo, start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            stalled = relay.stalled.wait(timeout=MINUTES)
        finally:
            _kill_group(first)  # the run and its temporary Prefect server: a crash
        assert stalled, "the first run never reached the relay"
        assert len(relay.received) == BEFORE_THE_STALL
        db = Database(database_url)
        with db.session() as session:
            states = Counter(session.scalars(select(Reminder.status)))
        assert states == {"sent": BEFORE_THE_STALL, "sending": 1,
                          "planned": DEBTORS - BEFORE_THE_STALL - 1}

        relay.unstall()
        second = subprocess.Popen(command, env=env, cwd=repo, start_new_session=True, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = second.communicate(timeout=MINUTES)
        finally:
            _kill_group(second)
        assert second.returncode == 0, out + err
        assert f"sent: {DEBTORS - BEFORE_THE_STALL}" in out

    arrivals = Counter(message_from_bytes(m)["X-Recouvrement-Debtor"] for m in relay.received)
    assert arrivals == Counter(accounts)  # every reminder, each once
    with db.session() as session:
        rows = list(session.scalars(select(Reminder)))
        released = list(session.scalars(select(AuditEntry).where(
            AuditEntry.event == "reminder.claim_released")))
    assert {r.status for r in rows} == {"sent"}
    assert len({r.message_id for r in rows}) == DEBTORS
    assert len(released) == 1 and "stopped" in released[0].details["why"]
    db.dispose()


def test_slots_let_in_as_many_runs_as_configured_and_tell_the_live_from_the_gone(
        database_url):
    import threading

    from recouvrement.adapters.mail.relay_slots import RelaySlot

    db = Database(database_url)
    waited = threading.Event()
    with RelaySlot(db, slots=1, run_id="run-a") as a:
        assert a.slot == 0
        entered = threading.Event()

        def second():
            with RelaySlot(db, slots=1, run_id="run-b", poll_seconds=0.05,
                           on_wait=lambda message: waited.set()) as b:
                entered.set()
                assert not b.is_dead("run-a") or not thread_a_alive.is_set()

        thread_a_alive = threading.Event()
        thread_a_alive.set()
        other = threading.Thread(target=second)
        other.start()
        assert waited.wait(timeout=60) and not entered.is_set()  # one slot: the second waits
        with RelaySlot(db, slots=2, run_id="run-c") as c:  # a second slot lets one more in
            assert c.slot == 1 and not c.is_dead("run-a") and not c.is_dead("run-c")
        thread_a_alive.clear()
    other.join(timeout=60)
    assert entered.is_set() and not other.is_alive()
    db.dispose()
