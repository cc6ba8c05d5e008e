"""Exports from the inbox into the ledger, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recouvrement.adapters.audit import verify
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Debtor, ImportBatch, Invoice, QuarantinedRow
from recouvrement.domain.reconciliation import HoldLimits
from recouvrement.ingest.load import ingest_inbox
from recouvrement.ingest.readers import InputFileError
from recouvrement.entrypoints.scenario import BAD_CUSTOMER_ROWS, BAD_INVOICE_ROWS, DemoLedger
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY = date(2026, 11, 2)


@pytest.fixture
def db(database_url):
    return Database(database_url)


def ingest(db, inbox, today=DAY):
    with db.session() as session:
        return ingest_inbox(session, inbox, actor="test", run_id=None, today=today)


def counts(db):
    with db.session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Debtor, Invoice, ImportBatch, QuarantinedRow, AuditEntry)}


def test_loads_debtors_and_invoices_with_exact_amounts(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT"), customer("411MARTIN", kind="B2C")])
    write_invoices(tmp_path, DAY, [
        invoice("F1", "411DUPONT", date(2026, 10, 1), "1234.56", "1000.01"),
        invoice("F2", "411MARTIN", date(2026, 10, 15), "99.99")])
    report = ingest(db, tmp_path)
    assert (report.debtors_created, report.invoices_created, report.quarantined) == (2, 2, [])
    with db.session() as session:
        f1 = session.scalar(select(Invoice).where(Invoice.number == "F1"))
        assert (f1.amount, f1.open_amount, f1.status) == (Decimal("1234.56"), Decimal("1000.01"), "open")
        assert session.scalar(select(Debtor.kind).where(Debtor.account == "411MARTIN")) == "B2C"


def test_the_same_file_twice_changes_nothing(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ingest(db, tmp_path)
    before = counts(db)
    (tmp_path / "invoices_copy.csv").write_bytes((tmp_path / f"invoices_{DAY:%Y%m%d}.csv").read_bytes())
    report = ingest(db, tmp_path, today=date(2026, 11, 3))
    assert counts(db) == before
    assert all(f["skipped"] for f in report.files)


def test_an_invoice_missing_from_a_later_snapshot_is_settled(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    # F1 is a sixth of what is open: under the share that holds a snapshot back
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1), "240.00"),
                                   invoice("F2", "411DUPONT", date(2026, 10, 5))])
    ingest(db, tmp_path)
    later = date(2026, 11, 3)
    write_invoices(tmp_path, later, [invoice("F2", "411DUPONT", date(2026, 10, 5), "1200.00", "200.00")])
    report = ingest(db, tmp_path, today=later)
    assert report.invoices_settled == ["F1"]
    with db.session() as session:
        rows = {i.number: i for i in session.scalars(select(Invoice))}
        assert (rows["F1"].status, rows["F1"].settled_on, rows["F1"].open_amount) == ("settled", later, 0)
        assert (rows["F2"].status, rows["F2"].open_amount) == ("open", Decimal("200.00"))
        events = set(session.scalars(select(AuditEntry.event)))
    assert {"invoice.settled", "invoice.open_amount_changed"} <= events


def test_a_quarantined_row_does_not_settle_its_invoice(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    ingest(db, tmp_path)
    later = date(2026, 11, 3)
    write_invoices(tmp_path, later, [invoice("F1", "411DUPONT", date(2026, 10, 1), "1200.00", "1300.00")])
    report = ingest(db, tmp_path, today=later)
    assert report.invoices_settled == []
    assert report.quarantined[0]["reasons"] == ["open_amount is greater than amount"]


def test_every_row_ends_in_the_ledger_or_in_quarantine_with_its_reasons(db, tmp_path):
    ledger = DemoLedger.generate(40, DAY, seed=3)
    ledger.write_exports(DAY, tmp_path, style="fr", bad_rows=True)
    customers, invoices = ledger.snapshot(DAY)
    # 9 bad rows in a small export: more than 5 % (that hold is tested on its own)
    with db.session() as session:
        report = ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY,
                              limits=HoldLimits(Decimal(100), Decimal(100)))
    loaded = {f["kind"]: f for f in report.files}
    rows_in = {f["kind"]: f["rows"] for f in report.files}
    assert loaded["customers"]["loaded"] + loaded["customers"]["quarantined"] == rows_in["customers"]
    assert loaded["invoices"]["loaded"] + loaded["invoices"]["quarantined"] == rows_in["invoices"]
    assert loaded["invoices"]["loaded"] == len(invoices) - _invoices_of_bad_customers(invoices)
    by_number = {}
    for q in report.quarantined:
        by_number.setdefault(q["raw"].get("invoice_number") or q["raw"].get("account"), []).extend(q["reasons"])
    expected = {
        "FBAD-0001": "amount is negative", "FBAD-0002": "open_amount is greater than amount",
        "FBAD-0003": "due_date is before issue_date",
        "FBAD-0004": "account is not a known debtor", "FBAD-0005": "currency is not an ISO 4217 code",
        "FBAD-0006": "invoice_number appears more than once", "FBAD-0008": "is not a date",
        "411BADMAIL": "email is not an e-mail address", "411BADKIND": "kind must be B2B, B2C or PUBLIC",
    }
    assert set(BAD_INVOICE_ROWS) - {""} | set(BAD_CUSTOMER_ROWS) <= set(expected)
    for key, reason in expected.items():
        assert any(reason in r for r in by_number[key]), (key, by_number.get(key))
    missing = [q for q in report.quarantined if q["raw"].get("invoice_number") == "" and "invoice_number" in q["raw"]]
    assert missing and "invoice_number is missing" in missing[0]["reasons"]
    assert sum(1 for q in report.quarantined if q["raw"].get("invoice_number") == "FBAD-0006") == 2
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == len(report.quarantined)
        assert verify(session) == []


def _invoices_of_bad_customers(invoices) -> int:
    return int(invoices["account"].isin(list(BAD_CUSTOMER_ROWS)).sum())


@pytest.mark.parametrize("content, problem", [
    (b"", "the file is empty"),
    (b"\x00\x01\x02binary", "binary content"),
    (b"invoice_number;account;amount\nF1;411A;12\n", "missing required column(s) issue_date"),
])
def test_an_unreadable_file_stops_everything_and_changes_nothing(db, tmp_path, content, problem):
    write_customers(tmp_path, [customer("411DUPONT")])
    (tmp_path / "invoices_bad.csv").write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        ingest(db, tmp_path)
    assert "invoices_bad.csv" in str(caught.value) and problem in str(caught.value)
    assert counts(db) == {"debtors": 0, "invoices": 0, "import_batches": 0,
                          "quarantined_rows": 0, "audit_log": 0}


def test_a_customers_file_without_an_optional_column_leaves_it_as_it_was(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT", blocked="yes")])
    ingest(db, tmp_path)
    (tmp_path / "customers_later.csv").write_text(
        "account;name;kind;email\n411DUPONT;Dupont SA;B2B;new@dupont.example.com\n", encoding="utf-8")
    ingest(db, tmp_path)
    with db.session() as session:
        debtor = session.scalar(select(Debtor).where(Debtor.account == "411DUPONT"))
        assert (debtor.blocked, debtor.name, debtor.email) == (True, "Dupont SA", "new@dupont.example.com")
        assert debtor.city == "Paris"
        [event] = session.scalars(select(AuditEntry).where(AuditEntry.event == "debtor.updated"))
        assert set(event.details["changes"]) == {"name", "email"}
