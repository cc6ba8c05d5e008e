"""`recouvrement run` with an export held back: exit 2, nothing decided, the command in the
output and in the run's summary artifact; the control totals of the files read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import Invoice, Reminder
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

DAY = date(2026, 11, 2)
ACCOUNTS = [f"411B{i:02d}" for i in range(4)]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def latest_summary() -> str:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["daily-summary"])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    return artifact.data


def test_a_truncated_export_stops_the_run_with_exit_2_and_the_command_to_confirm_it(
        home, sink, database_url):
    inbox = home / "inbox"
    write_customers(inbox, [customer(a) for a in ACCOUNTS])
    write_invoices(inbox, DAY, [invoice(f"F{i}", ACCOUNTS[i % 4], date(2026, 10, 1))
                                for i in range(8)])
    first = run("run", "--as-of", DAY)
    assert first.exit_code == 0, first.output
    assert ("control: open amount in the file 9600.00 EUR, the ledger now holds 9600.00 EUR; "
            "4 account(s), 0 account(s) differ") in first.output
    assert "| invoices_20261102.csv | loaded | 9 600.00 EUR | 9 600.00 EUR | 4 | 0 |" \
        in latest_summary()
    sent = len(sink.messages)

    day = DAY + timedelta(days=1)
    write_invoices(inbox, day, [invoice("F1", ACCOUNTS[1], date(2026, 10, 1))])
    held = run("run", "--as-of", day)
    assert held.exit_code == 2, held.output
    assert "invoices_20261103.csv: 0 ok, 0 quarantined, HELD BACK (nothing loaded)" in held.output
    assert "the run stopped before deciding anything" in held.output
    assert ("invoices_20261103.csv: held back, nothing from it was applied and nothing was "
            "settled by its absence: it would settle 7 invoice(s) by their absence") in held.output
    assert "recouvrement ingest --confirm invoices_20261103.csv" in held.output
    summary = latest_summary()
    assert "stopped, files held back" in summary
    assert "`recouvrement ingest --confirm invoices_20261103.csv`" in summary
    assert len(sink.messages) == sent
    with open_database(database_url).session() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)
                              .where(Invoice.status == "open")) == 8
        planned = session.scalar(select(func.count()).select_from(Reminder))

    assert run("ingest", "--as-of", day, "--confirm", "invoices_20261103.csv").exit_code == 0
    again = run("run", "--as-of", day)
    assert again.exit_code == 0, again.output
    with open_database(database_url).session() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)
                              .where(Invoice.status == "open")) == 1
        assert session.scalar(select(func.count()).select_from(Reminder)) >= planned
