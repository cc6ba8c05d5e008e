"""Letters: PDFs in the print queue, attached to the e-mail, instead of a refused e-mail."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.outbox import retry
from recouvrement.adapters.pdf import WeasyPrintRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")


@pytest.fixture
def setup(database_url, tmp_path):
    db = Database(database_url)
    write_customers(tmp_path, [
        customer("411DURAND", name="Durand & Fils", address="12 rue des Lilas", postcode="69003",
                 city="Lyon"),
        customer("411SANSMAIL", email="", address="3 place du Marché", postcode="33000",
                 city="Bordeaux")])
    write_invoices(tmp_path, date(2026, 10, 1), [
        invoice("F-100", "411DURAND", date(2026, 10, 1), "2400.00"),
        invoice("F-200", "411SANSMAIL", date(2026, 10, 1), "310.00")])
    with db.session() as s:
        ingest_inbox(s, tmp_path, actor="test", run_id=None, today=date(2026, 10, 1))
    post = Post(PrintQueue(tmp_path / "letters"), WeasyPrintRenderer())
    yield db, post, tmp_path / "letters"
    db.dispose()


def day(db, sink, post, when, retries=0):
    with db.session() as s:
        plan_reminders(s, today=when, policy=load_policy(), creditor=CREDITOR, actor="t", run_id="r")
    return send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=when,
                       sender=CREDITOR.sender, actor="t", run_id="r", pacing=Pacing(retries=retries),
                       post=post)


def pdf_text(data: bytes) -> str:
    """The PDF's text, the thin and no-break spaces of French amounts as plain spaces."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def manifest(folder, when):
    with (folder / when.isoformat() / "manifest.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_the_ladder_by_letter_and_e_mail_to_the_formal_notice_with_copies(setup, sink):
    db, post, letters = setup
    day(db, sink, post, date(2026, 10, 1))        # level 1: e-mail only; a letter for 411SANSMAIL
    [first] = [m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411DURAND"]
    assert not [p for p in first.iter_attachments()]
    [plain] = manifest(letters, date(2026, 10, 1))
    assert (plain["account"], plain["level"], plain["registered"], plain["city"]) == (
        "411SANSMAIL", "1", "no", "Bordeaux")

    day(db, sink, post, date(2026, 10, 16))       # level 2: e-mail with its registered letter
    second = [m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411DURAND"][-1]
    [attachment] = list(second.iter_attachments())
    text = pdf_text(attachment.get_content())
    for expected in ("Lettre recommandée avec accusé de réception", "Durand & Fils",
                     "12 rue des Lilas", "69003 Lyon", "F-100", "2 400,00", "16/10/2026"):
        assert expected in text, expected

    day(db, sink, post, date(2026, 10, 26))       # level 3: the formal notice + copy of level 2
    notice = [m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411DURAND"][-1]
    assert notice["X-Recouvrement-Level"] == "3"
    names = [a.get_filename() for a in notice.iter_attachments()]
    assert names[0] == "mise-en-demeure.pdf" and len(names) == 2 and names[1].startswith("copie-411DURAND-L2")
    text = pdf_text(next(notice.iter_attachments()).get_content())
    assert "mise en demeure" in text.lower()
    for expected in ("Intérêts de retard", "40,00", "03/11/2026"):
        assert expected in text, expected
    queued = [r for r in manifest(letters, date(2026, 10, 26)) if r["account"] == "411DURAND"]
    assert [(r["level"], r["registered"]) for r in queued] == [("3", "yes")]
    printed = PdfReader(letters / "2026-10-26" / queued[0]["file"])
    assert len(printed.pages) >= 2 and "Deuxième relance" in pdf_text(
        (letters / "2026-10-26" / queued[0]["file"]).read_bytes())


def test_an_e_mail_refused_for_good_goes_out_as_a_letter(setup, sink):
    db, post, letters = setup
    sink.fail_next(550, count=1, at="rcpt")
    report = day(db, sink, post, date(2026, 10, 1))
    assert [s["account"] for s in report.switched] == ["411DURAND"]
    assert report.failed == []
    with db.session() as s:
        row = s.scalar(select(Reminder).where(Reminder.recipient.is_not(None)))
    assert row.status == "sent" and "letter" in row.channel.split(",")
    assert {r["account"] for r in manifest(letters, date(2026, 10, 1))} == {"411DURAND", "411SANSMAIL"}


def test_a_formal_notice_whose_earlier_letter_is_missing_fails_until_it_is_put_back(setup, sink):
    db, post, letters = setup
    day(db, sink, post, date(2026, 10, 1))
    day(db, sink, post, date(2026, 10, 16))
    [second] = [f for f in (letters / "2026-10-16").glob("411DURAND-L2*.pdf")]
    kept = second.read_bytes()
    second.unlink()

    report = day(db, sink, post, date(2026, 10, 26))
    [failed] = [f for f in report.failed if f["account"] == "411DURAND"]
    assert failed["level"] == 3 and failed["permanent"]
    assert "copy of each earlier letter" in failed["error"] and second.name in failed["error"]
    assert [m["X-Recouvrement-Level"] for m in sink.messages
            if m["X-Recouvrement-Debtor"] == "411DURAND"] == ["1", "2"]
    assert not any(r["account"] == "411DURAND" and r["level"] == "3"
                   for r in manifest(letters, date(2026, 10, 26)))

    second.write_bytes(kept)
    report = day(db, sink, post, date(2026, 10, 27))
    assert report.sent == []  # it needs a person: put back, then `outbox retry`
    with db.session() as session:
        retry(session, failed["key"], actor="test")
    report = day(db, sink, post, date(2026, 10, 27))
    assert [s["account"] for s in report.sent] == ["411DURAND"]
    notice = [m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411DURAND"][-1]
    assert [a.get_filename() for a in notice.iter_attachments()] == [
        "mise-en-demeure.pdf", f"copie-{second.name}"]
