"""After a GDPR erasure: no copy of the debtor left in the files the product wrote, and no
pseudonym that a guessed account opens."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import Debtor, Invoice, QuarantinedRow, Reminder, ReminderDelivery
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.render import make_message_id
from recouvrement.services.reminder_planning import reminder_key
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder
from tests.factories import customer, invoice

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY, NOTICE, PAID_ON = date(2026, 11, 4), date(2026, 10, 26), date(2026, 11, 5)
DOMAIN = "creancier.example.com"


@pytest.fixture(autouse=True)
def years_later(monkeypatch):
    monkeypatch.setattr("recouvrement.entrypoints.cli.today_in", lambda _tz: date(2032, 1, 1))


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def erased(home, database_url):
    """411DUPONT: reminded (keys as planning makes them), a registered letter in the print
    queue, a dossier exported under the home, a rejected export row; then paid, archived
    and erased. 411ACTIF still owes and keeps everything."""
    db = open_database(database_url)
    customers = [customer("411DUPONT"), customer("411ACTIF")]
    invoices = [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                invoice("A1", "411ACTIF", date(2026, 10, 1))]
    export(db, home, DAY, customers, invoices)
    # A row quarantined: its validation report shows the name it refused.
    export(db, home, DAY, [customer("411DUPONT", name="=Dupont SARL")], invoices)
    ladder(db, "411DUPONT", ["F1"], NOTICE)
    ladder(db, "411ACTIF", ["A1"], NOTICE)
    queue = PrintQueue(home / "letters")
    with db.session() as session:
        for r in session.scalars(select(Reminder)):
            account = session.scalar(select(Debtor.account).where(Debtor.id == r.debtor_id))
            key = reminder_key(account, r.level, {r.invoice_numbers[0]: r.level})
            letter = queue.add(day=r.sent_on, key=key, pdf=b"%PDF-1.4 lettre", account=account,
                               name=f"{account[3:].title()} SARL", address="12 rue des Lilas",
                               postcode="75011", city="Paris", country="FR", level=r.level,
                               registered=r.level >= 2)
            session.execute(update(Reminder).where(Reminder.id == r.id).values(
                key=key, message_id=make_message_id(key, DOMAIN), letter_file=str(letter),
                channel="email,letter"))
            # As the outbox leaves them: the e-mail proved by its Message-ID, the letter
            # by its file.
            session.execute(update(ReminderDelivery).where(
                ReminderDelivery.reminder_id == r.id, ReminderDelivery.channel == "email")
                .values(proof=make_message_id(key, DOMAIN)))
            session.add(ReminderDelivery(reminder_id=r.id, channel="letter", status="sent",
                                         attempts=1, proof=str(letter)))
    queued = {d["debtor"]: d["id"] for d in escalate_on(db, DAY)}
    run("litigation", "export", queued["411DUPONT"], "--out", home / "dossiers")
    export(db, home, PAID_ON, customers, [invoice("A1", "411ACTIF", date(2026, 10, 1))],
           confirmed=True)
    escalate_on(db, PAID_ON)
    # Before: the copies are there to be found.
    assert any("=Dupont SARL" in p.read_text() for p in (home / "reports").rglob("*.html"))
    assert list((home / "dossiers").glob("dossier-411DUPONT-*"))
    assert "Dupont SARL" in "".join(m.read_text() for m in (home / "letters").glob("*/*.csv"))
    with db.session() as session:
        assert "Dupont" in repr(list(session.scalars(select(QuarantinedRow.raw))))
    run("retention", "purge", "--as-of", "2029-11-06")
    output = run("retention", "purge", "--as-of", "2031-11-06")
    assert "1 erased" in output and "copies erased" in output
    return db, home


def test_a_guessed_account_does_not_open_the_pseudonym(erased):
    """The attacker guesses accounts, takes the invoice numbers the ledger keeps, and hashes
    them the way reminder keys and Message-IDs were made."""
    db, _home = erased
    with db.session() as session:
        [pseudonym] = session.scalars(select(Debtor).where(Debtor.name == "(erased)"))
        numbers = list(session.scalars(select(Invoice.number)
                                       .where(Invoice.debtor_id == pseudonym.id)))
        keys = set(session.scalars(select(Reminder.key)))
        message_ids = set(session.scalars(select(Reminder.message_id)))
        assert session.scalar(select(func.count(func.distinct(Reminder.key)))) == len(keys)
    assert numbers == ["F1"]
    guesses = {reminder_key(account, level, {n: level})
               for account in ("411DUPONT", "411DURAND", "411DUPOND") for n in numbers
               for level in (1, 2, 3)}
    assert not guesses & keys
    assert not {make_message_id(g, DOMAIN) for g in guesses} & message_ids
    # 411ACTIF, not erased, keeps its keys as planned: the outbox still knows its reminders.
    assert reminder_key("411ACTIF", 3, {"A1": 3}) in keys


def test_no_copy_of_the_erased_debtor_is_left_in_the_files(erased):
    db, home = erased
    manifests = sorted((home / "letters").glob("*/manifest.csv"))
    rows = [row for m in manifests for row in csv.DictReader(m.open(newline=""), delimiter=";")]
    assert {r["account"] for r in rows if r["name"]} == {"411ACTIF"}
    text = "".join(m.read_text() for m in manifests)
    assert "Dupont" not in text and "DUPONT" not in text
    assert not any(p.name.startswith("411DUPONT") for p in (home / "letters").rglob("*.pdf"))
    assert any(p.name.startswith("411ACTIF") for p in (home / "letters").rglob("*.pdf"))
    assert not list((home / "dossiers").glob("dossier-411DUPONT-*"))
    for page in (home / "reports").rglob("*.html"):
        assert "Dupont SARL" not in page.read_text()
    with db.session() as session:
        raws = list(session.scalars(select(QuarantinedRow.raw)))
    assert raws and "Dupont" not in repr(raws)
