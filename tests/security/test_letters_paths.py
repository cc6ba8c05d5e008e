"""An account number never decides where a letter is written, nor what the manifest says.

The attack: a customers export (or a ledger filled before validation refused
them) with accounts such as `../../x`, `/tmp/…/x` or `a/b`. The print queue
used to build the PDF's path from the raw account: letters landed outside the
print folder, the manifest named a file that was not there, and the reminder
counted as sent (and as proof for litigation).
"""

from __future__ import annotations

import csv
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.adapters.pdf import FakePdfRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

DAY = date(2026, 10, 1)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")


def hostile_accounts() -> list[str]:
    # An absolute path the old code would really have written to: unique, and removed after.
    return ["../../x", f"/tmp/rcv-{uuid.uuid4().hex[:8]}/x", "a/b", "..", "411A\\..\\..\\y",
            "411B\r\nFORGED", "-1+2", "=HYPERLINK(\"http://x\")", "4" * 64, "411É:*?<>|"]


def manifest_rows(folder: Path) -> list[dict]:
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def files_outside(root: Path, accounts: list[str]) -> list[Path]:
    """Anything a letter may have written outside the print folder."""
    found = []
    for account in accounts:
        if account.startswith("/tmp/rcv-"):
            found += list(Path(account).parent.glob("*")) if Path(account).parent.exists() else []
    found += [p for p in root.parent.rglob("*.pdf") if root not in p.parents]
    return found


@pytest.fixture
def accounts():
    chosen = hostile_accounts()
    yield chosen
    for account in chosen:  # what the old code wrote under /tmp, cleaned up
        if account.startswith("/tmp/rcv-"):
            parent = Path(account).parent
            for p in parent.glob("*") if parent.exists() else []:
                p.unlink()
            if parent.exists():
                parent.rmdir()


def test_the_print_queue_keeps_every_letter_inside_its_day_folder(tmp_path, accounts):
    root = tmp_path / "home" / "letters"
    queue = PrintQueue(root)
    day_folder = root / DAY.isoformat()
    written = {}
    for n, account in enumerate(accounts):
        key = f"{n:02d}" + "ab" * 31
        try:
            path = queue.add(day=DAY, key=key, pdf=b"%PDF-1.4 " + account.encode(), account=account,
                             name="Durand", address="1 rue", postcode="75001", city="Paris",
                             country="FR", level=2, registered=True)
        except OSError:
            path = None  # the old code could not even write some of them
        written[account] = path
    assert files_outside(root, accounts) == []
    for account, path in written.items():
        assert path is not None, f"no letter written for {account!r}"
        assert path.parent == day_folder and path.is_file(), (account, path)
        assert path.name.isprintable() and len(path.name) <= 100
        assert not path.name.startswith((".", "-", "=", "+", "@"))
    rows = manifest_rows(day_folder)
    assert len(rows) == len(accounts)
    on_disk = {p.name for p in day_folder.glob("*.pdf")}
    assert {r["file"] for r in rows} == on_disk
    for row in rows:  # the file column names the very file, as written, unneutralised
        assert (day_folder / row["file"]).is_file()


def test_the_manifest_keeps_account_and_file_exact_and_neutralises_free_text(tmp_path):
    root = tmp_path / "letters"
    path = PrintQueue(root).add(
        day=DAY, key="c" * 64, pdf=b"%PDF-1.4", account="411-DUPONT", name="=HYPERLINK(\"http://x\")",
        address="-2 rue\n+33 bâtiment @B", postcode="75001", city="@Paris", country="FR",
        level=3, registered=True)
    [row] = manifest_rows(root / DAY.isoformat())
    assert row["account"] == "411-DUPONT" and row["file"] == path.name
    assert row["reminder"] == "c" * 64 and row["level"] == "3" and row["registered"] == "yes"
    # Free text from the debtor never starts like a formula a spreadsheet would run.
    for column in ("name", "address", "city"):
        assert row[column][:1] not in "=+-@\t\r", (column, row[column])
    assert row["name"] == "'=HYPERLINK(\"http://x\")" and row["address"] == "'-2 rue, +33 bâtiment @B"
    # No column of the manifest can be run as a formula, whatever the account.
    queue = PrintQueue(root)
    hostile = queue.add(day=DAY, key="d" * 64, pdf=b"%PDF-1.4", account="=1+2", name="X",
                        address=None, postcode=None, city=None, country=None, level=2,
                        registered=True)
    rows = manifest_rows(root / DAY.isoformat())
    assert rows[1]["file"] == hostile.name and (root / DAY.isoformat() / rows[1]["file"]).is_file()
    for row in rows:
        for column, value in row.items():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), (column, value)


@pytest.mark.smtp
@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_ledger_with_hostile_accounts_sends_every_letter_into_the_print_folder(
        database_url, tmp_path, sink, accounts):
    """Accounts taken in before validation refused them: letters still land where they must."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    safe = [f"411H{n:02d}" for n in range(len(accounts))]
    write_customers(inbox, [customer(a, email="", address="1 rue", postcode="75001", city="Paris")
                            for a in safe])
    write_invoices(inbox, DAY, [invoice(f"F{n}", a, DAY, "300.00") for n, a in enumerate(safe)])
    db = Database(database_url)
    try:
        with db.session() as s:
            ingest_inbox(s, inbox, actor="t", run_id=None, today=DAY)
            for old, hostile in zip(safe, accounts):  # what an older ledger may hold
                s.execute(update(Debtor).where(Debtor.account == old).values(account=hostile))
        with db.session() as s:
            plan_reminders(s, today=DAY, policy=load_policy(), creditor=CREDITOR, actor="t",
                           run_id="r")
        root = tmp_path / "home" / "letters"
        report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                             sender=CREDITOR.sender, actor="t", run_id="r",
                             pacing=Pacing(retries=0), post=Post(PrintQueue(root), FakePdfRenderer()))
        assert files_outside(root, accounts) == []
        assert report.failed == [] and len(report.sent) == len(accounts)
        day_folder = root / DAY.isoformat()
        rows = manifest_rows(day_folder)
        assert {r["file"] for r in rows} == {p.name for p in day_folder.glob("*.pdf")}
        assert len(rows) == len(accounts)
        with db.session() as s:
            files = s.scalars(select(Reminder.letter_file)).all()
        assert all(Path(f).parent == day_folder and Path(f).is_file() for f in files)
    finally:
        db.dispose()
