"""Agency mode through `recouvrement run`: two creditors whose debtors share accounts and
invoice numbers, each in its own ledger, one run for all of them, nothing of one in the other."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import Debtor, Reminder
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.flow]

REGISTER = Path(__file__).parents[1] / "fixtures" / "agency" / "creditors.toml"
DUE = date(2026, 10, 1)
CODES = ("atelier-nord", "sud-bureautique")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def read(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def agency_env(monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_AGENCY_NAME", "Agence Centrale de Recouvrement")
    monkeypatch.setenv("RECOUVREMENT_AGENCY_ADDRESS", "5 quai de Seine\n75019 Paris")


# The same debtor name, account and invoice number at both creditors: other addresses,
# other sums, other ledgers.
DEBTOR_NAME = "Dupont SARL"
OWED = {"atelier-nord": "1200.00", "sud-bureautique": "480.00"}


def overlapping_exports(home: Path) -> None:
    for code, amount in OWED.items():
        inbox = home / "creditors" / code / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        write_customers(inbox, [customer("411DUPONT", name=DEBTOR_NAME,
                                         email=f"compta@{code}-client.example.com")])
        write_invoices(inbox, DUE, [invoice("F2026-001", "411DUPONT", DUE, amount)])


@pytest.fixture
def agency(home, monkeypatch):
    agency_env(monkeypatch)
    assert run("creditor", "import", REGISTER).exit_code == 0
    overlapping_exports(home)
    return home


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_one_run_does_every_creditor_in_its_own_ledger_and_nothing_leaks(agency, sink,
                                                                        database_url):
    result = run("run", "--as-of", DUE)
    assert result.exit_code == 0, result.output
    assert "== creditor atelier-nord" in result.output
    assert "== creditor sud-bureautique" in result.output
    assert result.output.count("planned level 1 to 411DUPONT: F2026-001") == 2

    # The reminders (the creditors' own reports, on their schedule, go to them besides).
    reminders = [m for m in sink.messages if m["X-Recouvrement-Debtor"]]
    by_sender = {m["From"]: m for m in reminders}
    assert len(reminders) == 2
    nord = by_sender["relances-atelier-nord@agence.example.com"]
    sud = by_sender["relances-sud-bureautique@agence.example.com"]
    assert nord["To"] == "compta@atelier-nord-client.example.com"
    assert sud["To"] == "compta@sud-bureautique-client.example.com"
    # Same account, same invoice, same domain: still two messages, two Message-IDs.
    assert nord["X-Recouvrement-Invoices"] == sud["X-Recouvrement-Invoices"]
    assert nord["Message-ID"] != sud["Message-ID"]
    nord_text = read(nord.get_body(("plain",)).get_content())
    sud_text = read(sud.get_body(("plain",)).get_content())
    assert "Atelier du Nord SAS" in nord_text and "Sud Bureautique" not in nord_text
    assert "Sud Bureautique SARL" in sud_text and "Atelier du Nord" not in sud_text
    assert "1 200,00" in nord_text and "480,00" not in nord_text
    assert "480,00" in sud_text and "1 200,00" not in sud_text

    for code, amount in OWED.items():
        shown = run("--creditor", code, "debtors", "--format", "json")
        assert shown.exit_code == 0, shown.output
        [debtor] = json.loads(shown.output)
        assert (debtor["account"], debtor["name"], debtor["open_amount"]) == (
            "411DUPONT", DEBTOR_NAME, amount)
        log = run("--creditor", code, "audit", "show", "--debtor", "411DUPONT", "--format", "json")
        entries = json.loads(log.output)
        assert entries and all(e["account"] == "411DUPONT" for e in entries)
        other = "sud-bureautique" if code == "atelier-nord" else "atelier-nord"
        assert other not in log.output and OWED[other] not in log.output
        assert run("--creditor", code, "audit", "verify").exit_code == 0

    # The agency's own ledger holds the register, not the debtors.
    with open_database(database_url).session() as session:
        assert session.scalar(select(func.count()).select_from(Debtor)) == 0
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0

    again = run("run", "--as-of", DUE)  # a rerun of the day sends nothing twice
    assert again.exit_code == 0, again.output
    assert len([m for m in sink.messages if m["X-Recouvrement-Debtor"]]) == 2


def test_a_ledger_command_without_creditor_exits_2_naming_them(agency):
    for args in (["debtors"], ["litigation", "list"], ["audit", "show"], ["ingest"],
                 ["promise", "411DUPONT", "--until", "2026-12-01"], ["outbox", "list"]):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert ("2 creditor(s) are registered (atelier-nord, sud-bureautique): this command "
                "works on one creditor's ledger, use --creditor CODE") in result.output
    assert run("--creditor", "atelier-sud", "debtors").exit_code == 2
    assert "the creditors are: atelier-nord, sud-bureautique" in run(
        "--creditor", "atelier-sud", "debtors").output
    rerun = run("run", "--as-of", DUE, "--debtor", "411DUPONT")
    assert rerun.exit_code == 2 and "names its creditor" in rerun.output


def test_one_creditor_that_fails_does_not_stop_the_others_and_the_exit_is_the_worst(
        agency, sink, monkeypatch):
    # Sud Bureautique's letters would lack its IBAN: its run refuses, Atelier du Nord's goes.
    text = REGISTER.read_text(encoding="utf-8").replace(
        'iban = "FR14 2004 1010 0505 0001 3M02 606"\n', "")
    broken = agency / "register.toml"
    broken.write_text(text, encoding="utf-8")
    assert run("creditor", "import", broken).exit_code == 0

    result = run("run", "--as-of", DUE)
    assert result.exit_code == 2, result.output
    assert "warning: creditor sud-bureautique: its run will refuse" in result.output
    assert "refused: " in result.output and "RECOUVREMENT_CREDITOR_IBAN" in result.output
    assert [m["From"] for m in sink.messages if m["X-Recouvrement-Debtor"]] == [
        "relances-atelier-nord@agence.example.com"]


def test_the_creditor_reaches_tasks_run_in_worker_threads(agency):
    from prefect import flow, task

    from recouvrement.services.agency.selection import using_creditor
    from recouvrement.context import run_context

    @task
    def whose(_: int) -> tuple:
        ctx = run_context()
        return ctx.settings.creditor_code, ctx.db.url

    @flow
    def probe(code: str) -> list:
        with using_creditor(code):
            called = whose(0)  # in the flow's thread
            submitted = [whose.submit(i) for i in range(2)]  # the task runner's threads
            mapped = whose.map(range(3))
            return [called, *(f.result() for f in submitted), *(f.result() for f in mapped)]

    seen = probe("sud-bureautique")
    home = agency / "creditors" / "sud-bureautique"
    assert len(seen) == 6
    assert set(seen) == {("sud-bureautique", f"sqlite:///{home / 'recouvrement.db'}")}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_commands_on_one_creditor_never_touch_the_other(agency, sink, database_url):
    nord, sud = ("--creditor", "atelier-nord"), ("--creditor", "sud-bureautique")
    ingested = run(*nord, "ingest", "--as-of", DUE)
    assert ingested.exit_code == 0, ingested.output
    assert "(none)" in run(*sud, "debtors").output  # its inbox is not read by nord's ingest
    assert run(*sud, "ingest", "--as-of", DUE).exit_code == 0

    # The same invoice number at both: the dispute is Atelier du Nord's only.
    opened = run(*nord, "dispute", "open", "F2026-001", "--reason", "livraison incomplète")
    assert opened.exit_code == 0, opened.output
    result = run("run", "--as-of", DUE)
    assert result.exit_code == 0, result.output
    reminders = [m for m in sink.messages if m["X-Recouvrement-Debtor"]]
    assert [m["From"] for m in reminders] == ["relances-sud-bureautique@agence.example.com"]
    # Atelier du Nord is told of its debtor's dispute (R124-5, as information); no one else.
    [told] = [m for m in sink.messages if "R124-5" in m["Subject"]]
    assert told["To"] == "compta@atelier-nord.example.com"
    assert "livraison incomplète" in told.get_body(("plain",)).get_content()
    sud_log = json.loads(run(*sud, "audit", "show", "--format", "json").output)
    nord_log = json.loads(run(*nord, "audit", "show", "--format", "json").output)
    assert any(e["event"] == "invoice.dispute_opened" for e in nord_log)
    assert not any(e["event"] == "invoice.dispute_opened" for e in sud_log)
    assert not any("livraison" in json.dumps(e, ensure_ascii=False) for e in sud_log)
    assert json.loads(run(*nord, "litigation", "list", "--format", "json").output) == []

    if database_url.startswith("postgresql"):  # each ledger is a schema of its own
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.connect() as conn:
            counts = {schema: conn.execute(text(
                f'SELECT count(*) FROM "{schema}".debtors')).scalar()
                for schema in ("creditor_atelier_nord", "creditor_sud_bureautique", "public")}
            emails = conn.execute(text(
                "SELECT email FROM creditor_sud_bureautique.debtors")).scalars().all()
        engine.dispose()
        assert counts == {"creditor_atelier_nord": 1, "creditor_sud_bureautique": 1, "public": 0}
        assert emails == ["compta@sud-bureautique-client.example.com"]
    else:  # each ledger is a file in its creditor's folder
        for code in CODES:
            assert (agency / "creditors" / code / "recouvrement.db").is_file()
            assert (agency / "creditors" / code / "keys" / "audit.key").is_file()
