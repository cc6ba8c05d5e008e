"""GDPR retention: closed debtors archived after three years, erased after the limitation
period, and the audit chain still verifiable afterwards."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from recouvrement.adapters.audit import check_chain
from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import (AuditEntry, Debtor, DebtorArchive, LitigationDossier, Reminder,
                                     ReminderDelivery)
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY, NOTICE, PAID_ON = date(2026, 11, 4), date(2026, 10, 26), date(2026, 11, 5)


@pytest.fixture(autouse=True)
def years_later(monkeypatch):
    """The purges below happen years after these debtors closed: today is then."""
    monkeypatch.setattr("recouvrement.entrypoints.cli.today_in", lambda _tz: date(2032, 1, 1))


@pytest.fixture
def db(home, database_url):
    return open_database(database_url)


@pytest.fixture
def closed_debtors(db, home):
    """411DUPONT went to litigation, then paid; 411PETIT (a consumer) paid after reminders;
    411ACTIF still owes."""
    customers = [customer("411DUPONT"), customer("411PETIT", kind="B2C"), customer("411ACTIF")]
    export(db, home, DAY, customers, [
        invoice("F1", "411DUPONT", date(2026, 10, 1)), invoice("P1", "411PETIT", date(2026, 10, 1)),
        invoice("A1", "411ACTIF", date(2026, 10, 1))])
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    ladder(db, "411PETIT", ["P1"], NOTICE)
    escalate_on(db, DAY)
    # F1 and P1 paid: gone from the export, which a person confirms (F1 is in litigation)
    export(db, home, PAID_ON, customers, [invoice("A1", "411ACTIF", date(2026, 10, 1))],
           confirmed=True)
    escalate_on(db, PAID_ON)  # F1's payment closes its dossier
    with db.session() as session:
        assert session.scalar(select(LitigationDossier.status)) == "closed"
    return db


def purge(*args):
    result = CliRunner().invoke(cli, ["retention", "purge", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def debtor(db, account):
    with db.session() as session:
        return session.scalar(select(Debtor).where(Debtor.account == account))


def chain(db):
    with db.session() as session:
        return check_chain(session)


def test_nothing_moves_within_three_years_of_the_last_contact(closed_debtors):
    assert "0 debtor(s) archived, 0 erased" in purge("--as-of", "2029-11-05")


def test_a_dry_run_changes_nothing(closed_debtors):
    assert "2 debtor(s) archived" in purge("--as-of", "2029-11-06", "--dry-run")
    assert debtor(closed_debtors, "411DUPONT").name == "Dupont SARL"


def test_closed_debtors_are_archived_then_erased_and_the_chain_still_verifies(
        closed_debtors, database_url, monkeypatch, tmp_path):
    db = closed_debtors
    posted = tmp_path / "411DUPONT-L3.pdf"  # the formal notice as a registered letter
    posted.write_bytes(b"%PDF-1.4 letter")
    with db.session() as session:
        dupont_entries = list(session.scalars(select(AuditEntry.id)
                                              .where(AuditEntry.account == "411DUPONT")))
        dupont = session.scalar(select(Debtor.id).where(Debtor.account == "411DUPONT"))
        session.execute(update(Reminder).where(Reminder.debtor_id == dupont, Reminder.level == 3)
                        .values(letter_file=str(posted), letter_html="<p>Mise en demeure</p>"))
        # As the outbox leaves it: the letter's delivery is proved by its file.
        session.add(ReminderDelivery(
            reminder_id=session.scalar(select(Reminder.id).where(Reminder.debtor_id == dupont,
                                                                 Reminder.level == 3)),
            channel="letter", status="sent", attempts=1, proof=str(posted)))
    assert dupont_entries

    output = purge("--as-of", "2029-11-06")
    assert "2 debtor(s) archived" in output and "archived 411ACTIF" not in output
    archived = debtor(db, "411DUPONT")
    assert (archived.name, archived.email, archived.address, archived.siren) == (
        "(archived)", None, None, None)
    assert debtor(db, "411ACTIF").name == "Actif SARL"
    with db.session() as session:
        archives = {a.debtor_id: a for a in session.scalars(select(DebtorArchive))}
    assert archives[archived.id].data["email"] == "compta@dupont.example.com"
    # B2B: five years (C. com. L110-4) from the last contact, the payment of 5 Nov 2026
    assert archives[archived.id].purge_after == date(2031, 11, 5)
    assert chain(db).intact

    # The consumer's two years (C. conso. L218-2) are over: erased the day after archiving.
    output = purge("--as-of", "2029-11-07")
    assert "1 erased" in output
    assert debtor(db, "411PETIT") is None and debtor(db, "411DUPONT") is not None

    assert posted.exists()
    output = purge("--as-of", "2031-11-06")
    assert "1 erased" in output
    assert debtor(db, "411DUPONT") is None
    assert not posted.exists()
    with db.session() as session:
        erased = {e.id: e for e in session.scalars(
            select(AuditEntry).where(AuditEntry.id.in_(dupont_entries)))}
        assert all(e.account is None and e.details == {} and e.salt is None
                   and e.redacted_at is not None for e in erased.values())
        assert not list(session.scalars(select(AuditEntry).where(
            AuditEntry.account.in_(["411DUPONT", "411PETIT"]))))
        reminders = list(session.scalars(select(Reminder)))
        assert {(r.recipient, r.body_text, r.letter_html, r.letter_file)
                for r in reminders} == {(None, "", None, None)}
        assert {(d.proof, d.payload) for d in session.scalars(select(ReminderDelivery))} == {
            (None, None)}
        pseudonyms = set(session.scalars(select(Debtor.account).where(Debtor.name == "(erased)")))
        assert len(pseudonyms) == 2
        # The figures stay: the closed dossier now belongs to a pseudonym.
        assert session.scalar(select(LitigationDossier.total)) is not None

    report = chain(db)
    assert report.intact, report.problems
    assert report.redacted >= len(dupont_entries)
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0 and "erased by retention purges" in result.output
    shown = CliRunner().invoke(cli, ["audit", "show", "--debtor", "411DUPONT", "--format", "json"])
    assert json.loads(shown.output) == []


def test_a_debtor_back_in_business_leaves_the_archive(closed_debtors, home):
    db = closed_debtors
    purge("--as-of", "2029-11-06")
    export(db, home, date(2029, 11, 6), [customer("411ACTIF")],
           [invoice("F9", "411DUPONT", date(2029, 12, 1)), invoice("A1", "411ACTIF",
                                                                   date(2026, 10, 1))])
    output = purge("--as-of", "2029-11-07")
    assert "1 back from the archive" in output
    back = debtor(db, "411DUPONT")
    assert (back.name, back.email) == ("Dupont SARL", "compta@dupont.example.com")
    assert chain(db).intact
