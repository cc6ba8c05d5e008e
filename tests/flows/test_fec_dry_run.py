"""A FEC as Sage writes it, through `recouvrement run --dry-run` and `recouvrement ingest`:
nothing is planned for what the file shows lettered and settled, and a customer is never
chased beyond its account's balance."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from recouvrement.entrypoints.cli import main as cli
from tests.fec_builders import balances_411, owed
from tests.factories import customer, write_customers

pytestmark = [pytest.mark.flow]

FEC = Path(__file__).parents[1] / "fixtures" / "exports" / "fec"
SAGE = "732829320FEC20261231_sage.txt"
SETTLED = {"RAN-CDUPONT", "FA260001", "FA260004"}  # lettered in full in the file


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def inbox(home):
    inbox = home / "inbox"
    write_customers(inbox, [customer(a) for a in ("CDUPONT", "CMARTIN", "CBERNARD", "CDURAND")])
    shutil.copy(FEC / SAGE, inbox)
    return inbox


def test_a_dry_run_plans_nothing_the_file_shows_settled(inbox, sink):
    result = run("run", "--as-of", "2026-11-02", "--dry-run")
    assert result.exit_code == 0, result.output
    planned = dict(re.findall(r"would send level \d to (\S+): (.+)", result.output))
    assert set(planned) == {"CMARTIN", "CBERNARD", "CDURAND"}  # CDUPONT paid everything
    chased = {n.strip() for numbers in planned.values() for n in numbers.split(",")}
    assert chased == {"RAN-CMARTIN", "FA260002", "RAN-CBERNARD", "FA260003"}
    assert not chased & SETTLED
    # the unlettered cheque and the credit note, said in the run's output
    assert ("CDURAND: payment 10, not lettered to an invoice, set against FA260003 (the oldest "
            "due, Code civil 1342-10): 250.00 EUR") in result.output
    assert "CMARTIN: credit note AV260001, not lettered to an invoice, set against RAN-CMARTIN" \
        in result.output
    assert "note 732829320FEC20261231_sage.txt: 1 line(s) on the collective account 411000" \
        in result.output
    assert sink.messages == []


def test_ingest_then_debtors_owe_their_balances(inbox):
    result = run("ingest", "--as-of", "2026-11-02")
    assert result.exit_code == 0, result.output
    debtors = {d["account"]: Decimal(d["open_amount"])
               for d in json.loads(run("debtors", "--format", "json").output)}
    assert {a: v for a, v in debtors.items() if v} == owed(balances_411(FEC / SAGE))


def test_ingest_refuses_an_export_date_before_the_entries(home):
    shutil.copy(FEC / "484612005FEC20251231.txt", home / "inbox")
    result = run("ingest", "--as-of", "2026-11-02", "--export-date", "2026-06-30")
    assert result.exit_code == 2
    assert "484612005FEC20251231.txt: entries are dated up to 2026-10-30, after the export date " \
           "given (2026-06-30)" in result.output
    assert "(nothing was changed)" in result.output
    result = run("ingest", "--as-of", "2026-11-02")  # its entries tell the day: 2026-10-30
    assert result.exit_code == 0, result.output
    assert "18 rows, 9 loaded, 0 quarantined, 9 not customer lines" in result.output


def test_ingest_refuses_a_file_with_only_a_collective_account(home):
    shutil.copy(FEC / "FEC_un_seul_compte_clients.txt", home / "inbox")
    result = run("ingest", "--as-of", "2026-11-02")
    assert result.exit_code == 2
    assert "cannot tell which customer owes what" in result.output
    assert json.loads(run("debtors", "--format", "json").output) == []
