"""FEC, Excel and French CSV exports into the ledger; reconciliation; quarantine; reports.

On SQLite and PostgreSQL.
"""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from recouvrement.adapters.audit import verify
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Debtor, ImportBatch, Invoice, QuarantinedRow
from recouvrement.domain.reconciliation import HoldLimits
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.load import ingest_inbox
from recouvrement.ingest.quarantine import list_rows
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_csv, write_customers, write_invoices

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
DAY = date(2026, 11, 2)
# For the tests of reading and validation, whose small files carry a bad row or two: no
# file is held back for its share of quarantine or of settlement by absence
# (tests/integration/test_ingest_guards.py tests the holds).
RELAXED = HoldLimits(Decimal(100), Decimal(100))
HEADER = ["invoice_number", "account", "issue_date", "due_date", "amount", "open_amount",
          "currency", "export_date", "document_type"]


@pytest.fixture
def db(database_url):
    return Database(database_url)


def ingest(db, inbox, today=DAY, **kw):
    kw.setdefault("home", None)
    with db.session() as session:
        return ingest_inbox(session, inbox, actor="test", run_id=None, today=today, **kw)


def invoices(db):
    with db.session() as session:
        return {i.number: (i.status, i.amount, i.open_amount, i.currency)
                for i in session.scalars(select(Invoice))}


def events(db, name):
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.event == name)
                                    .order_by(AuditEntry.id)))


def counts(db):
    with db.session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Debtor, Invoice, ImportBatch, QuarantinedRow, AuditEntry)}


def copy(name, inbox, as_name=None):
    return shutil.copy(EXPORTS / name, inbox / (as_name or Path(name).name))


def test_a_fec_with_a_customers_file_gives_the_right_open_invoices(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT", payment_terms_days="45"),
                               customer("411MARTIN")])
    copy("fec/732829320FEC20261231.txt", tmp_path)
    report = ingest(db, tmp_path)
    assert invoices(db) == {
        "F2025-0090": ("open", Decimal("500.00"), Decimal("500.00"), "EUR"),
        "F2026-0001": ("settled", Decimal("1200.00"), Decimal("0.00"), "EUR"),
        "F2026-0002": ("open", Decimal("3000.00"), Decimal("1700.00"), "EUR"),  # less the credit note
        "AV2026-0001": ("settled", Decimal("-300.00"), Decimal("0.00"), "EUR"),
        "VT000004": ("open", Decimal("240.00"), Decimal("240.00"), "EUR"),
    }
    with db.session() as session:
        petit = session.scalar(select(Debtor).where(Debtor.account == "411PETIT"))
        assert (petit.name, petit.email, petit.contact_missing) == ("Petit Cœur Boulangerie", None, True)
        batch = session.scalar(select(ImportBatch).where(ImportBatch.file_kind == "fec"))
        assert (batch.rows_total, batch.rows_loaded, batch.rows_quarantined, batch.rows_ignored) == (
            18, 7, 0, 11)
        assert session.scalar(select(Invoice.due_date).where(Invoice.number == "F2025-0090")) == \
            date(2025, 12, 30)  # PieceDate + 45 days
        assert verify(session) == []
    assert report.debtors_without_contact == ["411PETIT"]
    set_off = {e.subject: e.details["set_off"] for e in events(db, "invoice.credit_set_off")}
    assert set_off == {"F2026-0002": [{"credit": "AV2026-0001", "amount": "300.00"}],
                       "AV2026-0001": [{"invoice": "F2026-0002", "amount": "300.00"}]}


def test_a_customers_file_completes_a_debtor_first_seen_in_a_fec(db, tmp_path):
    copy("fec/FEC_montant_sens_pipe_cp1252.txt", tmp_path)
    ingest(db, tmp_path)
    write_customers(tmp_path, [customer("C0042", name="Œuvres Sociales Réunies")])
    ingest(db, tmp_path)
    with db.session() as session:
        debtor = session.scalar(select(Debtor).where(Debtor.account == "C0042"))
        assert (debtor.contact_missing, debtor.email) == (False, "compta@42.example.com")


def test_an_excel_sheet_and_a_french_csv_flow_in_with_their_profiles(db, tmp_path):
    copy("csv/customers_sage100.csv", tmp_path)
    copy("csv/invoices_20261102_sage100.csv", tmp_path)
    copy("xlsx/invoices_ebp.xlsx", tmp_path)
    report = ingest(db, tmp_path, limits=RELAXED)
    files = {f["file"]: f for f in report.files}
    assert files["invoices_ebp.xlsx"]["sheet"] == "Échéancier"
    assert files["invoices_20261102_sage100.csv"]["profile"] == "sage100"
    found = invoices(db)
    assert found["FA26-0101"] == ("open", Decimal("1234.56"), Decimal("1234.56"), "EUR")
    assert found["FA26-0102"][2] == Decimal("900.00")
    # Dupont's "Avoir", from the CSV, is set against Dupont's invoice due first, from the
    # workbook (due 31 Oct like FA26-0101, then by number)
    assert found["E-2026-0501"][2] == Decimal("1350.00")
    assert found["AV26-0007"] == ("settled", Decimal("-150.00"), Decimal("0.00"), "EUR")
    assert found["E-2026-0502"] == ("open", Decimal("100.00"), Decimal("100.00"), "EUR")
    quarantined = {(q["file"], q["line"]) for q in report.quarantined}
    assert quarantined == {("customers_sage100.csv", 4), ("invoices_20261102_sage100.csv", 10),
                           ("invoices_ebp.xlsx", 6), ("invoices_ebp.xlsx", 7)}


def test_partial_payments_amount_changes_and_reopening_are_audited(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT"), customer("411MARTIN")])
    due = date(2026, 10, 1)
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", due, "1000.00"),
                                   invoice("F2", "411DUPONT", due, "500.00")])
    ingest(db, tmp_path)
    day2, day3, day4 = date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)
    write_invoices(tmp_path, day2, [invoice("F1", "411DUPONT", due, "1100.00", "600.00")])
    ingest(db, tmp_path, today=day2, limits=RELAXED)  # F2, a third of the ledger, settled
    assert invoices(db)["F1"] == ("open", Decimal("1100.00"), Decimal("600.00"), "EUR")
    assert invoices(db)["F2"][0] == "settled"
    write_invoices(tmp_path, day3, [invoice("F1", "411DUPONT", due, "1100.00", "600.00"),
                                    invoice("F2", "411DUPONT", due, "500.00", "200.00")])
    report = ingest(db, tmp_path, today=day3)
    assert report.invoices_reopened == ["F2"]
    assert invoices(db)["F2"] == ("open", Decimal("500.00"), Decimal("200.00"), "EUR")
    # the invoice is reassigned to another debtor by the accountant
    write_invoices(tmp_path, day4, [invoice("F1", "411MARTIN", due, "1100.00", "600.00"),
                                    invoice("F2", "411DUPONT", due, "500.00", "200.00")])
    ingest(db, tmp_path, today=day4)
    [changed] = events(db, "invoice.amount_changed")
    assert (changed.subject, changed.details["from"], changed.details["to"]) == ("F1", "1000.00", "1100.00")
    [reopened] = events(db, "invoice.reopened")
    assert reopened.subject == "F2" and reopened.details["open_amount"] == "200.00"
    [moved] = events(db, "invoice.debtor_changed")
    assert (moved.details["from"], moved.details["to"]) == ("411DUPONT", "411MARTIN")


def test_the_same_invoice_in_two_files_of_one_day_is_one_invoice(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    rows = [invoice("F1", "411DUPONT", date(2026, 10, 1), "100.00")]
    write_invoices(tmp_path, DAY, rows, name="invoices_a.csv")
    write_invoices(tmp_path, DAY, rows + [invoice("F2", "411DUPONT", date(2026, 10, 1))],
                   name="invoices_b.csv")
    report = ingest(db, tmp_path)
    assert set(invoices(db)) == {"F1", "F2"} and report.quarantined == []


def test_the_same_invoice_in_two_files_of_one_day_with_different_amounts_is_held(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1), "100.00")])
    ingest(db, tmp_path)
    later = date(2026, 11, 3)
    write_invoices(tmp_path, later, [invoice("F1", "411DUPONT", date(2026, 10, 1), "100.00", "40.00")],
                   name="invoices_a.csv")
    write_invoices(tmp_path, later, [invoice("F1", "411DUPONT", date(2026, 10, 1), "100.00", "60.00")],
                   name="invoices_b.csv")
    report = ingest(db, tmp_path, today=later)
    assert invoices(db)["F1"] == ("open", Decimal("100.00"), Decimal("100.00"), "EUR")  # not settled
    assert sorted((q["file"], q["reasons"][0]) for q in report.quarantined) == [
        ("invoices_a.csv", "invoice_number appears in another export of the same day "
                           "(invoices_b.csv) with different amounts or details"),
        ("invoices_b.csv", "invoice_number appears in another export of the same day "
                           "(invoices_a.csv) with different amounts or details")]


def test_a_fec_and_a_balance_of_the_same_day_agree_on_one_invoice(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    copy("fec/FEC_no_header.txt", tmp_path)
    write_invoices(tmp_path, DAY, [invoice("F2026-0301", "411DUPONT", date(2026, 12, 1), "60.00",
                                           issued=date(2026, 10, 9))])
    ingest(db, tmp_path)
    with db.session() as session:
        # the due date written in the open-items export wins over the FEC's estimate
        assert session.scalar(select(Invoice.due_date)) == date(2026, 12, 1)


def test_a_foreign_currency_is_kept_never_converted(db, tmp_path):
    copy("fec/FEC_usd.txt", tmp_path)
    write_csv(tmp_path / "invoices_gbp.csv", HEADER, [
        {**invoice("UK-1", "411EXPORT", date(2026, 10, 20), "250.00"), "currency": "gbp",
         "export_date": DAY.isoformat()}])
    # the FEC's name has no date: said to be exported the same day as the open items
    ingest(db, tmp_path, export_date=DAY)
    found = invoices(db)
    assert found["INV-US-01"] == ("open", Decimal("1000.00"), Decimal("600.00"), "USD")
    assert found["UK-1"] == ("open", Decimal("250.00"), Decimal("250.00"), "GBP")


def test_a_credit_note_in_an_open_items_export_lowers_what_is_owed(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_csv(tmp_path / "invoices_x.csv", HEADER, [
        {**invoice("F1", "411DUPONT", date(2026, 9, 1), "1000.00"), "export_date": DAY.isoformat()},
        {**invoice("F2", "411DUPONT", date(2026, 10, 1), "500.00"), "export_date": DAY.isoformat()},
        {**invoice("AV1", "411DUPONT", date(2026, 10, 5), "1200.00"), "document_type": "avoir",
         "export_date": DAY.isoformat()}])
    ingest(db, tmp_path)
    found = invoices(db)
    assert found["F1"][:3] == ("settled", Decimal("1000.00"), Decimal("0.00"))
    assert found["F2"][:3] == ("open", Decimal("500.00"), Decimal("300.00"))
    assert found["AV1"][:3] == ("settled", Decimal("-1200.00"), Decimal("0.00"))


def test_a_credit_bigger_than_what_is_owed_stays_a_credit(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_csv(tmp_path / "invoices_x.csv", HEADER, [
        {**invoice("F1", "411DUPONT", date(2026, 9, 1), "100.00"), "export_date": DAY.isoformat()},
        {**invoice("AV1", "411DUPONT", date(2026, 10, 5), "-150.00"), "document_type": "credit_note",
         "export_date": DAY.isoformat()}])
    ingest(db, tmp_path)
    assert invoices(db)["AV1"][:3] == ("credit", Decimal("-150.00"), Decimal("-50.00"))
    write_invoices(tmp_path, date(2026, 11, 3), [invoice("F9", "411DUPONT", date(2026, 10, 9))])
    ingest(db, tmp_path, today=date(2026, 11, 3))  # refunded: absent from the next export
    assert invoices(db)["AV1"][0] == "settled"


def test_a_fixed_export_dropped_again_releases_its_rows_from_quarantine(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    bad = invoice("F2", "411DUPONT", date(2026, 10, 1), issue_date="31/02/2026")
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)), bad],
                   name="invoices_today.csv")
    ingest(db, tmp_path)
    with db.session() as session:
        [row] = list_rows(session)
        assert (row["key"], row["line"], row["status"]) == ("F2", 3, "open")
    write_invoices(tmp_path, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                   invoice("F2", "411DUPONT", date(2026, 10, 1))],
                   name="invoices_today.csv")
    report = ingest(db, tmp_path)
    assert report.quarantine_released == 1
    assert invoices(db)["F2"][0] == "open"
    with db.session() as session:
        assert list_rows(session) == []
        [row] = list_rows(session, status=None)
        assert row["status"] == "released" and row["resolved_at"]
    [released] = events(db, "quarantine.released")
    assert released.subject == "invoices_today.csv:3"


def test_a_file_dropped_again_still_broken_replaces_its_quarantine(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_invoices(tmp_path, DAY, [invoice("", "411DUPONT", date(2026, 10, 1))], name="invoices_x.csv")
    ingest(db, tmp_path)
    write_invoices(tmp_path, DAY, [invoice("", "411DUPONT", date(2026, 10, 1), "99.00")],
                   name="invoices_x.csv")
    report = ingest(db, tmp_path)
    assert report.quarantine_superseded == 1
    with db.session() as session:
        assert [r["status"] for r in list_rows(session, status=None)] == ["superseded", "open"]


def test_a_customer_fixed_later_leaves_quarantine(db, tmp_path):
    write_customers(tmp_path, [customer("411DUPONT", siren="732829321")])
    ingest(db, tmp_path)
    write_customers(tmp_path, [customer("411DUPONT")], name="customers_fixed.csv")
    ingest(db, tmp_path)
    with db.session() as session:
        assert list_rows(session) == []
        assert session.scalar(select(Debtor.siren)) == "732829320"


def test_a_validation_report_per_file_under_the_home_folder(db, tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    copy("broken/customers_html.csv", inbox, "customers.csv")
    copy("fec/FEC_bad_lines.txt", inbox)
    report = ingest(db, inbox, home=home)
    paths = {f["file"]: Path(f["report"]) for f in report.files}
    assert set(paths) == {"customers.csv", "FEC_bad_lines.txt"}
    for path in paths.values():
        assert path.parent == home / "reports" / "validation" and path.suffix == ".html"
    page = paths["customers.csv"].read_text(encoding="utf-8")
    assert "expect_column_values_to_not_match_regex" in page or "not match" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page  # the values are escaped
    fec_page = paths["FEC_bad_lines.txt"].read_text(encoding="utf-8")
    assert "fec-lines" in fec_page and "invoices" in fec_page
    with db.session() as session:
        assert set(session.scalars(select(ImportBatch.report_path))) == {str(p) for p in paths.values()}


def test_no_report_for_an_inbox_that_is_not_the_settings_one(db, tmp_path, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_HOME", str(tmp_path / "elsewhere"))
    write_customers(tmp_path, [customer("411DUPONT")])
    with db.session() as session:
        report = ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
    assert report.files[0]["report"] is None
    assert not (tmp_path / "elsewhere").exists()


# --- the corpus of broken files (tests/fixtures/exports/README.md)

REFUSED = [
    ("invoices_empty.csv", "the file is empty"),
    ("invoices_header_only.csv", "line 1: a header but no rows under it"),
    ("invoices_truncated_in_quote.csv", "line 3: a quoted field is never closed"),
    ("invoices_binary.csv", "binary content"),
    ("invoices_wrong_encoding.csv", "line 3: mixes UTF-8 with another encoding"),
    ("invoices_missing_column.csv", "missing required column(s) due_date"),
    ("invoices_not_a_workbook.xlsx", "not a readable Excel workbook"),
    ("FEC_not_a_fec.txt", "line 1: not a FEC header: missing JournalCode, EcritureNum"),
]


@pytest.mark.parametrize("name, problem", REFUSED)
def test_a_file_that_cannot_be_read_names_itself_and_changes_nothing(db, tmp_path, name, problem):
    write_customers(tmp_path, [customer("411DUPONT")])
    write_invoices(tmp_path, DAY, [invoice("F0", "411DUPONT", date(2026, 10, 1))])
    ingest(db, tmp_path)
    before, ledger = counts(db), invoices(db)
    copy(f"broken/{name}", tmp_path)
    with pytest.raises(InputFileError) as caught:
        ingest(db, tmp_path, today=date(2026, 11, 3))
    assert str(caught.value).startswith(str(tmp_path / name)) and problem in str(caught.value)
    assert counts(db) == before and invoices(db) == ledger


QUARANTINED = [
    # the line cut in its due date: "31/10/20" reads as 2020, before the issue date
    ("invoices_truncated.csv", {3: ["row has 4 fields where the header has 8",
                                    "due_date is before issue_date"]}),
    ("invoices_extra_columns.csv", {3: ["row has 11 fields where the header has 10"]}),
    ("customers_formula.csv", {3: ["name starts like a spreadsheet formula (= + - @)"]}),
    ("customers_html.csv", {3: ["name contains HTML markup"], 4: ["name contains HTML markup"]}),
]


@pytest.mark.parametrize("name, expected", QUARANTINED)
def test_a_file_with_bad_rows_quarantines_them_and_loads_the_rest(db, tmp_path, name, expected):
    write_customers(tmp_path, [customer("411DUPONT")], name="customers_0.csv")
    write_invoices(tmp_path, DAY, [invoice("F0", "411DUPONT", date(2026, 10, 1))])
    ingest(db, tmp_path)
    ledger = invoices(db)
    copy(f"broken/{name}", tmp_path)
    report = ingest(db, tmp_path, limits=RELAXED)
    got = {q["line"]: [r for r in q["reasons"] if not r.endswith("is missing")]
           for q in report.quarantined}
    assert got == expected
    [loaded] = [f for f in report.files if not f["skipped"]]
    assert loaded["loaded"] + loaded["quarantined"] == loaded["rows"]
    after = invoices(db)
    assert {k: after[k] for k in ledger} == ledger  # what was there is as it was


def test_a_ten_megabyte_field_is_quarantined_and_kept_short(db, tmp_path):
    huge = "A" * (10 * 1024 * 1024)
    (tmp_path / "customers.csv").write_text(
        f"account;name;kind\n411DUPONT;Dupont SA;B2B\n411HUGE;{huge};B2B\n{huge};x;B2B\n",
        encoding="utf-8")
    report = ingest(db, tmp_path)
    got = {q["line"]: q for q in report.quarantined}
    assert got[3]["reasons"] == ["name is longer than 300 characters"]
    assert got[4]["reasons"] == ["account is longer than 64 characters"]
    assert got[3]["raw"]["name"].endswith(f"[{len(huge)} characters in the file]")
    assert len(got[3]["raw"]["name"]) < 300
    with db.session() as session:
        assert session.scalar(select(Debtor.account)) == "411DUPONT"
        assert verify(session) == []
