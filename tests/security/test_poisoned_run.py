"""`recouvrement run` with one poisoned reminder: the others go out, escalation runs, exit 1.

The attack of the finding, end to end: one letter that cannot be written
stopped the send step, so every other debtor's reminder stayed unsent, the
litigation queue was never fed, and the same crash came back on every run.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.services.reminder_planning import reminder_key
from recouvrement.ingest.load import ingest_inbox
from tests.dossier_builders import ladder
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow, pytest.mark.smtp]

DAY = date(2026, 11, 2)


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_one_poisoned_reminder_leaves_the_rest_of_the_run_alone(home, sink, database_url,
                                                                 monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_SEND_MAX_ATTEMPTS", "2")
    inbox = home / "inbox"
    write_customers(inbox, [customer("411OKA"), customer("411OKB"),
                            customer("411POISON", email=""), customer("411LATE")])
    write_invoices(inbox, DAY, [invoice("FA", "411OKA", date(2026, 10, 1)),
                                invoice("FB", "411OKB", date(2026, 10, 1)),
                                invoice("FP", "411POISON", date(2026, 10, 1)),
                                invoice("FL", "411LATE", date(2026, 6, 1))])
    db = open_database(database_url)
    with db.session() as session:
        ingest_inbox(session, inbox, actor="test", run_id=None, today=DAY)
    ladder(db, "411LATE", ["FL"], DAY - timedelta(days=12))  # its formal notice's 8 days are over
    # Where 411POISON's letter goes, a folder: that letter cannot be written.
    key = reminder_key("411POISON", 1, {"FP": 1})
    (home / "letters" / DAY.isoformat() / f"411POISON-L1-{key[:12]}.pdf").mkdir(parents=True)

    first = run("run", "--as-of", DAY)
    assert first.exit_code == 1, first.output
    assert "FAILED 411POISON level 1: its letter could not be written" in first.output
    assert sorted(m["X-Recouvrement-Debtor"] for m in sink.messages) == ["411OKA", "411OKB"]
    assert "litigation: 411LATE" in first.output  # escalation ran after the failure

    second = run("run", "--as-of", DAY)  # the same failure, recorded again; nothing else
    assert second.exit_code == 1 and "NEEDS ATTENTION 411POISON level 1" in second.output
    assert "given up after 2 attempts" in second.output
    assert "outbox retry" in second.output and "Run failed" not in second.output
    third = run("run", "--as-of", DAY)
    assert third.exit_code == 0, third.output  # given up: no more failures run after run
    assert "FAILED" not in third.output and "NEEDS ATTENTION" not in third.output
    assert len(sink.messages) == 2
    listed = run("outbox", "list")
    assert "411POISON" in listed.output and "needs_attention" in listed.output
