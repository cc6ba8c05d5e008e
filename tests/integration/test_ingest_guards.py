"""A file the ledger would not reconcile with is held back whole; a snapshot that would settle too
much by absence, or a dossier in litigation, waits for a person (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recouvrement.adapters.audit import verify
from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import open_database
from recouvrement.adapters.db.models import AuditEntry, Debtor, ImportBatch, Invoice, QuarantinedRow
from recouvrement.ingest.load import ingest_inbox
from recouvrement.services.litigation import list_dossiers
from tests.conftest import BACKENDS
from tests.dossier_builders import escalate_on, export, ladder
from tests.factories import (
    customer,
    fec_entry,
    invoice,
    write_customers,
    write_fec,
    write_invoices,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FULL = date(2026, 11, 4)
NOTICE = date(2026, 10, 26)
ACCOUNTS = [f"411CLIENT{i:02d}" for i in range(8)]


@pytest.fixture
def db(home, database_url):
    return open_database(database_url)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def ingest(db, home, day, **kw):
    with db.session() as session:
        return ingest_inbox(session, home / "inbox", actor="test", run_id=None, today=day, **kw)


def full_export():
    return [invoice(f"F{i:03d}", ACCOUNTS[i % 8], date(2026, 10, 1), f"{1000 + 10 * i}.00")
            for i in range(24)]


def statuses(db):
    with db.session() as session:
        return dict(session.execute(select(Invoice.number, Invoice.status)).all())


def dossier_states(db):
    with db.session() as session:
        return {d["debtor"]: d["status"] for d in list_dossiers(session)}


def events(db, name):
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.event == name)
                                    .order_by(AuditEntry.id)))


@pytest.fixture
def ledger(db, home):
    """24 open invoices of 8 debtors from a full export; two debtors' dossiers in litigation."""
    export(db, home, FULL, [customer(a) for a in ACCOUNTS], full_export())
    for account in ACCOUNTS[:2]:
        numbers = [r["invoice_number"] for r in full_export() if r["account"] == account]
        ladder(db, account, numbers, NOTICE)
    assert len(escalate_on(db, FULL)) == 2
    return home / "inbox"


# --- item 9: settlement by absence ---------------------------------------------------------


def test_a_truncated_export_settles_nothing_and_closes_no_dossier_until_confirmed(db, home, ledger):
    day = FULL + timedelta(days=1)
    three = [r for r in full_export() if r["invoice_number"] in ("F002", "F003", "F004")]
    write_invoices(ledger, day, three)
    report = ingest(db, home, day)

    [held] = report.held
    assert held["file"] == "invoices_20261105.csv"
    assert held["confirm"] == "recouvrement ingest --confirm invoices_20261105.csv"
    assert any("would settle 21 invoice(s) by their absence" in r for r in held["reasons"])
    assert any("dossiers in litigation" in r for r in held["reasons"])
    assert report.invoices_settled == [] and report.invoices_updated == 0
    assert set(statuses(db).values()) == {"open"}
    with db.session() as session:
        batch = session.scalar(select(ImportBatch).where(
            ImportBatch.file_name == "invoices_20261105.csv"))
        assert (batch.status, batch.rows_loaded) == ("held", 0)
    escalate_on(db, day)
    assert set(dossier_states(db).values()) == {"queued"}

    # Read again (the next run): still held, still nothing settled.
    assert [h["file"] for h in ingest(db, home, day).held] == ["invoices_20261105.csv"]
    assert set(statuses(db).values()) == {"open"}

    confirmed = ingest(db, home, day, confirm=["invoices_20261105.csv"])
    assert confirmed.held == [] and len(confirmed.invoices_settled) == 21
    assert sum(s == "settled" for s in statuses(db).values()) == 21
    [entry] = events(db, "import.file_confirmed")
    assert entry.actor == "test" and entry.details["held_for"] == held["reasons"]
    escalate_on(db, day)
    assert set(dossier_states(db).values()) == {"closed"}

    # The full export again: the invoices reopen, and the dossiers closed by absence too.
    later = day + timedelta(days=1)
    write_invoices(ledger, later, full_export())
    back = ingest(db, home, later)
    assert back.held == [] and len(back.invoices_reopened) == 21
    escalate_on(db, later)
    assert dossier_states(db) == {ACCOUNTS[0]: "queued", ACCOUNTS[1]: "queued"}
    reopened = events(db, "litigation.reopened")
    assert sorted(e.account for e in reopened) == ACCOUNTS[:2]
    assert all(e.details["from"] == "closed" and e.details["to"] == "queued" for e in reopened)
    with db.session() as session:
        assert verify(session) == []


def test_one_invoice_of_a_dossier_missing_is_held_even_below_the_share(db, home, ledger):
    day = FULL + timedelta(days=1)
    write_invoices(ledger, day, [r for r in full_export() if r["invoice_number"] != "F000"])
    [held] = ingest(db, home, day).held
    assert held["reasons"] == [
        f"it would settle by their absence 1 invoice(s) of dossiers in litigation, closing "
        f"them as paid: F000 ({ACCOUNTS[0]})"]
    assert statuses(db)["F000"] == "open"


def test_a_few_invoices_paid_are_settled_by_absence_as_before(db, home, ledger):
    day = FULL + timedelta(days=1)
    gone = {"F002", "F011"}  # 2 of 24, of debtors not in litigation: under 20 %
    write_invoices(ledger, day, [r for r in full_export() if r["invoice_number"] not in gone])
    report = ingest(db, home, day)
    assert report.held == [] and sorted(report.invoices_settled) == sorted(gone)
    [control] = [f["control"] for f in report.files if f["file"] == "invoices_20261105.csv"]
    assert control["file_balance"] == control["ledger_balance"] and control["differ"] == 0


def test_the_ledger_balances_are_the_same_asked_by_name_or_read_in_one_pass(db, home, ledger,
                                                                             monkeypatch):
    """More accounts than a chunk are read in one pass over the ledger (one query, not one per
    chunk of names, which read every open invoice again): the same balances and exclusions."""
    from recouvrement.ingest import control

    day = FULL + timedelta(days=1)
    with db.session() as session:  # one invoice settled after the day: its account excluded
        session.execute(Invoice.__table__.update().where(Invoice.number == "F005")
                        .values(status="settled", settled_on=day + timedelta(days=1)))
        asked = set(ACCOUNTS[1:6]) | {"411NOBODY"}
        numbers = {f"F{i:03d}" for i in range(24)} - {"F009"}  # F009 (411CLIENT01) not listed
        by_name = control.ledger_balances(session, asked, FULL, numbers)
        monkeypatch.setattr(control, "ACCOUNTS_CHUNK", 2)
        one_pass = control.ledger_balances(session, asked, FULL, numbers)
    assert one_pass == by_name
    balances, other = by_name
    assert {a for a, _ in balances} == set(ACCOUNTS[1:6]) and other == {ACCOUNTS[1], ACCOUNTS[5]}


def test_the_share_is_a_setting(db, home, ledger, monkeypatch):
    monkeypatch.setenv("RECOUVREMENT_HOLD_SETTLED_BY_ABSENCE_PERCENT", "5")
    day = FULL + timedelta(days=1)
    write_invoices(ledger, day, [r for r in full_export() if r["invoice_number"] not in
                                 {"F002", "F011"}])
    [held] = ingest(db, home, day).held
    assert "more than 5 %" in held["reasons"][0]


def test_the_cli_exits_2_naming_the_file_and_the_command_then_confirm_applies_it(
        db, home, ledger):
    day = FULL + timedelta(days=1)
    write_invoices(ledger, day, [r for r in full_export() if r["invoice_number"] in
                                 ("F002", "F003", "F004")])
    result = run("ingest", "--as-of", day)
    assert result.exit_code == 2, result.output
    assert "invoices_20261105.csv: held back, nothing from it was applied" in result.output
    assert "recouvrement ingest --confirm invoices_20261105.csv" in result.output
    assert set(statuses(db).values()) == {"open"}

    wrong = run("ingest", "--as-of", day, "--confirm", "invoices_nope.csv")
    assert wrong.exit_code == 2 and "nothing to confirm: invoices_nope.csv" in wrong.output

    done = run("ingest", "--as-of", day, "--confirm", "invoices_20261105.csv")
    assert done.exit_code == 0, done.output
    assert "confirmed by you" in done.output
    assert sum(s == "settled" for s in statuses(db).values()) == 21


# --- item 8: control totals --------------------------------------------------------------

CLOSING = date(2026, 12, 31)


def clean_fec(customers=20):
    """An invoice for each customer, every other one paid and lettered; one credit note."""
    entries = []
    for i in range(customers):
        account = f"411FEC{i:02d}"
        letter = "AA" if i % 2 else ""
        entries.append(fec_entry("VT", f"VT{i:04d}", date(2026, 10, 1), f"FA{i:04d}", account,
                                 f"{500 + i}.00", letter=letter))
        if letter:
            entries.append(fec_entry("BQ", f"BQ{i:04d}", date(2026, 11, 2), f"RG{i:04d}",
                                     account, f"-{500 + i}.00", letter=letter))
    entries.append(fec_entry("VT", "VT0100", date(2026, 11, 5), "AV0001", "411FEC00", "-100.00",
                             counterpart="70900000"))
    return entries


def test_every_file_gets_a_control_total_and_a_clean_fec_reconciles(db, home):
    write_fec(home / "inbox" / f"732829320FEC{CLOSING:%Y%m%d}.txt", clean_fec())
    report = ingest(db, home, CLOSING)
    assert report.held == []
    [control] = [f["control"] for f in report.files]
    # 500 + 502 + ... + 518 open, less the 100 credit note
    assert control["file_balance"] == {"EUR": "4990.00"}
    assert control["ledger_balance"] == {"EUR": "4990.00"}
    assert (control["accounts"], control["differ"], control["quarantined_rows"]) == (20, 0, 0)


def test_a_fec_whose_ledger_would_chase_a_paid_debtor_is_held_back_whole(db, home):
    """A receipt whose date cannot be read goes to quarantine while the invoice it pays loads:
    the ledger would hold 503.00 on an account the file shows settled."""
    entries = clean_fec() + [
        fec_entry("VT", "VT0200", date(2026, 10, 1), "FA0200", "411RETARD", "503.00"),
        fec_entry("BQ", "BQ0200", date(2026, 11, 3), "RG0200", "411RETARD", "-503.00",
                  day_text="20261135")]
    name = f"732829320FEC{CLOSING:%Y%m%d}.txt"
    write_fec(home / "inbox" / name, entries)
    result = run("ingest", "--as-of", CLOSING)
    assert result.exit_code == 2, result.output
    assert f"{name}: held back, nothing from it was applied" in result.output
    assert ("the ledger would not reconcile with it on 1 account(s): 411RETARD the file shows "
            "0.00 EUR, the ledger would hold 503.00") in result.output
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
        assert session.scalar(select(func.count()).select_from(Debtor)) == 0
        batch = session.scalar(select(ImportBatch))
        assert batch.status == "held" and batch.control["differ_not_explained"] == 1
    # The unreadable lines are kept, visible in quarantine.
    listed = run("quarantine", "list", "--file", name)
    assert listed.exit_code == 0 and "EcritureDate '20261135' is not a date" in listed.output

    # The accountant fixes the date and exports again under the same name: it loads.
    entries[-1] = fec_entry("BQ", "BQ0200", date(2026, 11, 3), "RG0200", "411RETARD", "-503.00")
    write_fec(home / "inbox" / name, entries)
    fixed = run("ingest", "--as-of", CLOSING)
    assert fixed.exit_code == 0, fixed.output
    assert "0 account(s) differ" in fixed.output
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(QuarantinedRow)
                              .where(QuarantinedRow.status == "open")) == 0
        statuses_ = set(session.scalars(select(ImportBatch.status)))
    assert statuses_ == {"loaded", "replaced"}  # the held one, replaced by the fixed one


def test_a_file_mostly_in_quarantine_is_held_the_others_of_the_day_go_on(db, home):
    inbox = home / "inbox"
    day = date(2026, 11, 2)
    rows = [invoice(f"G{i:03d}", "411BON", date(2026, 10, 1)) for i in range(10)]
    rows[3]["open_amount"] = "12,3,4"
    rows[7]["due_date"] = "2026-13-45"
    write_customers(inbox, [customer("411BON"), customer("411AUTRE")])
    write_invoices(inbox, day, [invoice("A1", "411AUTRE", date(2026, 10, 1))])
    write_invoices(inbox, day, rows, name="invoices_bon_20261102.csv")
    report = ingest(db, home, day)
    [held] = report.held
    assert held["file"] == "invoices_bon_20261102.csv"
    assert held["reasons"][0].startswith("2 of its 10 customer rows (20.0 %) go to quarantine, "
                                         "more than 5 %")
    assert statuses(db) == {"A1": "open"}  # the other file of the day is loaded
    with db.session() as session:
        kept = session.scalars(select(QuarantinedRow.line_number)
                               .where(QuarantinedRow.file_name == held["file"])).all()
    assert sorted(kept) == [5, 9]  # held, and its bad rows kept in quarantine
    confirmed = ingest(db, home, day, confirm=[held["file"]])
    assert confirmed.held == [] and sorted(statuses(db)) == ["A1"] + [
        f"G{i:03d}" for i in range(10) if i not in (3, 7)]
