"""Personal data is owner-only on disk, whatever the umask.

The finding: under the usual umask 022 the database and its WAL, the letters,
the print queue's manifest, the validation reports and the dossiers were
0644: any account of the machine could read the debtors' names, addresses and
debts. Every file the product writes with personal data is now 0600 and every
folder it creates 0700.
"""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from recouvrement.adapters.db import Database
from recouvrement.services.dossier import write_dossier
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.ingest.quarantine import export_rows
from tests.factories import customer, invoice, write_customers, write_invoices

DAY = date(2026, 11, 2)


@pytest.fixture(autouse=True)
def usual_umask():
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_private(root: Path, *, created_folders: bool = True) -> list[Path]:
    """Every file under root is 0600, every folder 0700; the paths checked."""
    checked = []
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            if created_folders or path != root:
                assert mode(path) == 0o700, (path, oct(mode(path)))
        else:
            assert mode(path) == 0o600, (path, oct(mode(path)))
        checked.append(path)
    return checked


def test_the_sqlite_database_and_its_wal_are_owner_only(tmp_path):
    home = tmp_path / "home"
    db = Database(f"sqlite:///{home / 'recouvrement.db'}")
    try:
        with db.engine.connect() as conn:  # a write keeps the WAL and its index around
            conn.execute(text("CREATE TABLE probe (x TEXT)"))
            conn.execute(text("INSERT INTO probe VALUES ('Durand, 12 rue des Lilas')"))
            conn.commit()
            files = sorted(p.name for p in home.iterdir())
            assert {"recouvrement.db", "recouvrement.db-wal", "recouvrement.db-shm"} <= set(files)
            for name in files:
                assert mode(home / name) == 0o600, (name, oct(mode(home / name)))
        assert mode(home) == 0o700
    finally:
        db.dispose()


def test_an_older_world_readable_database_is_made_owner_only(tmp_path):
    path = tmp_path / "old.db"
    Database(f"sqlite:///{path}").dispose()
    for p in tmp_path.iterdir():
        os.chmod(p, 0o644)
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            for p in tmp_path.glob("old.db*"):
                assert mode(p) == 0o600, (p, oct(mode(p)))
    finally:
        db.dispose()


def test_letters_and_the_manifest_are_owner_only(tmp_path):
    queue = PrintQueue(tmp_path / "home" / "letters")
    for n in range(2):
        queue.add(day=DAY, key=f"{n}" * 64, pdf=b"%PDF-1.4", account=f"411A{n}", name="Durand",
                  address="1 rue", postcode="75001", city="Paris", country="FR", level=2,
                  registered=True)
    checked = assert_private(tmp_path / "home")
    assert {p.name for p in checked} >= {"manifest.csv", "letters", DAY.isoformat()}
    assert len([p for p in checked if p.suffix == ".pdf"]) == 2


def test_an_older_manifest_is_made_owner_only_when_a_letter_is_added(tmp_path):
    queue = PrintQueue(tmp_path / "letters")
    queue.add(day=DAY, key="a" * 64, pdf=b"%PDF", account="411A", name="D", address=None,
              postcode=None, city=None, country=None, level=2, registered=True)
    manifest = tmp_path / "letters" / DAY.isoformat() / "manifest.csv"
    os.chmod(manifest, 0o644)
    queue.add(day=DAY, key="b" * 64, pdf=b"%PDF", account="411B", name="D", address=None,
              postcode=None, city=None, country=None, level=2, registered=True)
    assert mode(manifest) == 0o600


def test_validation_reports_are_owner_only(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    write_customers(inbox, [customer("411DUPONT"), customer("411BAD", email="not-an-address")])
    write_invoices(inbox, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1))])
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with db.session() as s:
            ingest_inbox(s, inbox, actor="t", run_id=None, today=DAY, home=home)
    finally:
        db.dispose()
    reports = home / "reports"
    pages = assert_private(reports)
    assert len([p for p in pages if p.suffix == ".html"]) >= 2
    assert any(p.name.endswith("-rapport.html") for p in pages)  # the credit manager's page


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_an_exported_dossier_is_owner_only(tmp_path, as_zip):
    files = {"dossier.json": b"{}", "letters/01_2026-10-01_level1.txt": b"Durand",
             "SHA256SUMS": b""}
    target = write_dossier(files, tmp_path / "out" / "dossiers", "411DUPONT-dossier",
                           as_zip=as_zip)
    assert target.exists()
    assert_private(tmp_path / "out")


def test_the_report_page_is_owner_only(tmp_path, monkeypatch):
    import recouvrement.queries.dashboard.render as render

    monkeypatch.setattr(render, "render_html", lambda report, language="fr": "<p>Durand</p>")
    out = render.write_report({}, tmp_path / "home" / "reports" / "dashboard" / "r.html")
    assert out.read_text() == "<p>Durand</p>"
    assert_private(tmp_path / "home")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_quarantine_export_is_owner_only(tmp_path, fmt):
    rows = [{"id": 1, "file": "customers.csv", "line": 3, "status": "open",
             "reasons": ["email is not an e-mail address"],
             "raw": {"account": "411BAD", "name": "Durand"}}]
    out = tmp_path / "exports" / f"rows.{fmt}"
    assert export_rows(rows, out, fmt) == 1
    assert_private(tmp_path / "exports")


@pytest.mark.smtp
def test_the_smtp_sinks_maildir_is_owner_only(tmp_path):
    import smtplib

    from recouvrement.adapters.mail.sink import SmtpSink

    with SmtpSink(port=0, maildir=tmp_path / "maildir") as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"],
                            b"Subject: relance\r\n\r\nDurand, 12 rue des Lilas\r\n")
        sink.wait_for(1)
    messages = list((tmp_path / "maildir" / "new").iterdir())
    assert len(messages) == 1
    assert_private(tmp_path / "maildir")
