"""Requests that make no sense, or are dated later than today: refused in one line (exit 2),
with nothing changed; a misspelt setting is refused, never ignored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, Invoice, Promise
from recouvrement.domain.calendar import today_in
from tests.conftest import BACKENDS
from tests.dossier_builders import export
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY = date(2026, 11, 2)
TOMORROW = today_in("Europe/Paris") + timedelta(days=1)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def ledger(home, database_url):
    """411DUPONT owes F1; 411PAYE paid P1 (gone from the next export)."""
    db = open_database(database_url)
    customers = [customer("411DUPONT"), customer("411PAYE")]
    export(db, home, DAY, customers, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                      invoice("P1", "411PAYE", date(2026, 10, 1))])
    export(db, home, DAY + timedelta(days=1), customers,
           [invoice("F1", "411DUPONT", date(2026, 10, 1))], confirmed=True)
    with db.session() as session:
        assert session.scalar(select(Invoice.status).where(Invoice.number == "P1")) == "settled"
    return db


def entries(db):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def refused(db, *args, says):
    before = entries(db)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert entries(db) == before  # nothing changed


def test_a_purge_dated_later_than_today_is_refused(ledger):
    refused(ledger, "retention", "purge", "--as-of", TOMORROW,
            says=f"retention purge --as-of {TOMORROW.isoformat()} is later than today")
    assert run("retention", "purge", "--as-of", TOMORROW, "--dry-run").exit_code == 0


def test_a_run_dated_later_than_today_is_refused(ledger):
    refused(ledger, "run", "--as-of", TOMORROW, says="is later than today")


def test_an_acknowledgement_dated_later_than_today_is_refused(ledger):
    refused(ledger, "acknowledge", "F1", "--on", TOMORROW, says="cannot be dated later than today")


def test_an_acknowledgement_of_a_settled_invoice_is_refused(ledger):
    refused(ledger, "acknowledge", "P1", "--on", DAY, says="P1 is settled")


def test_a_dispute_on_a_settled_invoice_is_refused(ledger):
    refused(ledger, "dispute", "open", "P1", "--reason", "x", says="nothing to dispute")


def test_a_promise_from_a_debtor_who_owes_nothing_is_refused(ledger):
    refused(ledger, "promise", "411PAYE", "--until", TOMORROW, says="411PAYE owes nothing")
    with ledger.session() as session:
        assert session.scalar(select(func.count()).select_from(Promise)) == 0


def test_an_account_in_the_wrong_case_is_refused_with_the_right_one(ledger):
    refused(ledger, "promise", "411dupont", "--until", TOMORROW,
            says="did you mean 411DUPONT?")
    refused(ledger, "plan", "411Dupont", "--instalments", "2", "--first", TOMORROW,
            says="did you mean 411DUPONT?")


def test_two_accounts_differing_only_by_case_are_pointed_out(ledger, home):
    export(ledger, home, DAY + timedelta(days=2), [customer("411DUPONT"), customer("411Dupont")],
           [invoice("F1", "411DUPONT", date(2026, 10, 1)),
            invoice("F9", "411Dupont", date(2026, 10, 1))])
    result = run("promise", "411DUPONT", "--until", TOMORROW)
    assert result.exit_code == 0, result.output
    assert "warning: 411Dupont differ(s) from 411DUPONT only by case" in result.output


@pytest.mark.parametrize("line, says", [
    ('smtp_hots = "smtp.example.com"', "unknown setting 'smtp_hots' (did you mean 'smtp_host'?)"),
    ('smtp_security = "tls"', "setting smtp_security:"),
])
def test_a_misspelt_or_wrong_setting_is_refused(ledger, home, line, says):
    (home.parent / "recouvrement.toml").write_text(line + "\n")  # the working directory
    refused(ledger, "debtors", says=says)
