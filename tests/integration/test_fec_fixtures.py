"""FECs shaped like what accounting software writes, into the ledger: it owes what the file owes.

For each file, every debtor's open amount must be its account's 411 balance
added up from the file's raw lines (`tests/fec_builders.py`), to the cent,
and nothing may be owed where the balance is nil or a credit. On SQLite and
PostgreSQL.
"""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, ImportBatch, Invoice
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.load import ingest_inbox
from tests.conftest import BACKENDS
from tests.fec_builders import balances_411, ledger_owed, owed

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FEC = Path(__file__).parents[1] / "fixtures" / "exports" / "fec"
DAY = date(2026, 11, 2)
# file, accounts that are no debtor, invoices the file shows settled, the export date
FILES = [
    ("732829320FEC20261231_sage.txt", set(), {"RAN-CDUPONT", "FA260001", "FA260004"}, DAY),
    ("FEC_ebp_comptes_detailles.txt", {"411CB"}, {"VE00001", "VE00003"}, date(2026, 4, 1)),
    ("123456782FEC20261231_odoo.txt", set(), {"Solde d'ouverture-7", "INV/2026/00003"}, DAY),
    ("484612005FEC20251231.txt", set(), {"AN1", "AN3"}, date(2026, 10, 30)),
]


@pytest.fixture
def db(database_url):
    return Database(database_url)


def ingest(db, inbox, **kw):
    with db.session() as session:
        return ingest_inbox(session, inbox, actor="test", run_id=None, today=DAY, home=None, **kw)


@pytest.mark.parametrize("name, not_debtors, settled, export_date", FILES)
def test_the_ledger_owes_what_the_file_owes(db, tmp_path, name, not_debtors, settled,
                                            export_date):
    shutil.copy(FEC / name, tmp_path)
    report = ingest(db, tmp_path)
    assert report.quarantined == []
    with db.session() as session:
        assert ledger_owed(session) == owed(balances_411(FEC / name, not_debtors))
        status = dict(session.execute(select(Invoice.number, Invoice.status)).all())
        assert {n: status.get(n) for n in settled} == {n: "settled" for n in settled}
        assert session.scalar(select(ImportBatch.export_date)) == export_date
        debtors = set(session.scalars(select(Debtor.account)))
    assert not debtors & not_debtors


def test_one_reference_on_every_customer_is_an_item_per_customer(db, tmp_path):
    shutil.copy(FEC / "732829320FEC20261231_sage.txt", tmp_path)
    report = ingest(db, tmp_path)
    with db.session() as session:
        rows = {n: (a, o) for n, a, o in session.execute(
            select(Invoice.number, Debtor.account, Invoice.open_amount)
            .join(Debtor, Debtor.id == Invoice.debtor_id))}
    # the opening entry "RAN" carries every customer's balance: one item each
    assert rows["RAN-CBERNARD"] == ("CBERNARD", Decimal("800.00"))
    # partly lettered (lower case) with a 1000 cheque, then the credit note AV260001 (360)
    # set against it, the oldest debt (Code civil 1342-10)
    assert rows["RAN-CMARTIN"] == ("CMARTIN", Decimal("1040.00"))
    # the remittance "REM CHQ" names no invoice: the unlettered cheque is the bank entry
    assert rows["10"] == ("CDURAND", Decimal("0.00"))
    with db.session() as session:  # what the letters will say was taken off each invoice
        set_off = dict(session.execute(select(Invoice.number, Invoice.set_off)).all())
    assert (set_off["FA260003"], set_off["RAN-CMARTIN"], set_off["FA260002"]) == (
        Decimal("400.00"), Decimal("360.00"), None)
    assert {(i["credit"], i["invoice"], i["amount"]) for i in report.imputations} == {
        ("RAN-CDURAND", "FA260003", "150.00"), ("10", "FA260003", "250.00"),
        ("AV260001", "RAN-CMARTIN", "360.00")}
    assert {i["credit_type"] for i in report.imputations if i["credit"] == "10"} == {"payment"}
    assert report.notes == [
        "732829320FEC20261231_sage.txt: 1 line(s) on the collective account 411000 without a "
        "customer sub-ledger account (CompAuxNum): they belong to no customer and were not loaded"]


def test_a_file_with_only_a_collective_account_is_refused_and_changes_nothing(db, tmp_path):
    shutil.copy(FEC / "FEC_un_seul_compte_clients.txt", tmp_path)
    with pytest.raises(InputFileError, match="every customer line is on the collective account "
                                             "41100000 'CLIENTS'.*cannot tell which customer"):
        ingest(db, tmp_path)
    with db.session() as session:
        assert session.scalars(select(Debtor.account)).all() == []
        assert session.scalars(select(ImportBatch.id)).all() == []


def test_an_export_date_given_before_the_entries_is_refused(db, tmp_path):
    shutil.copy(FEC / "484612005FEC20251231.txt", tmp_path)
    with pytest.raises(InputFileError, match=r"entries are dated up to 2026-10-30, after the "
                                             r"export date given \(2026-06-30\)"):
        ingest(db, tmp_path, export_date=date(2026, 6, 30))
    report = ingest(db, tmp_path, export_date=date(2026, 10, 31))
    assert report.quarantined == []
    with db.session() as session:
        assert session.scalar(select(ImportBatch.export_date)) == date(2026, 10, 31)
