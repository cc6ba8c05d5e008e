"""The letter HTML the outbox holds cannot make the PDF renderer read host files or the network.

The attack: whoever can write the `reminders` table rewrites a letter's HTML
with `<img src="file:///…">`, a stylesheet, an `@import` or an attachment
link to a host file; at send time WeasyPrint used to fetch any `file://`
URL and the file went out inside the debtor's PDF (by e-mail and in the print
queue). The renderer now reads only the templates' own files.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, literal, select, update

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Reminder, ReminderDelivery
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, Creditor
from recouvrement.adapters.pdf import WeasyPrintRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

DAY = date(2026, 10, 1)


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server name)
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body::after { content: 'SECRET-HTTP' }")

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def host_files(tmp_path):
    """Files of the host, outside the templates folder, each with a mark of its own."""
    mark = uuid.uuid4().hex[:10]
    secret = tmp_path / "secret.txt"
    secret.write_text(f"SECRET-TXT-{mark} password=hunter2\n")
    css = tmp_path / "evil.css"
    css.write_text(f"body::before {{ content: 'SECRET-CSS-{mark}' }}")
    imported = tmp_path / "imported.css"
    imported.write_text(f"body::after {{ content: 'SECRET-IMPORT-{mark}' }}")
    svg = tmp_path / "evil.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40">'
                   f'<text x="0" y="20">SECRET-SVG-{mark}</text></svg>')
    return {"secret": secret, "css": css, "imported": imported, "svg": svg, "mark": mark}


def hostile_letter(files, port) -> str:
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{files['css'].as_uri()}">
<style>@import url("{files['imported'].as_uri()}");</style>
<link rel="stylesheet" href="http://127.0.0.1:{port}/remote.css">
<link rel="attachment" href="{files['secret'].as_uri()}">
</head><body><p>Madame, Monsieur, vous restez redevable de 1 200,00 €.</p>
<img src="{files['svg'].as_uri()}"><img src="file:///etc/hostname">
<img src="file://{files['svg'].parent}/../{files['svg'].parent.name}/evil.svg">
<img src="{DEFAULT_TEMPLATES.as_uri()}/{os.path.relpath(files['svg'], DEFAULT_TEMPLATES)}">
<object data="{files['svg'].as_uri()}"></object><embed src="{files['svg'].as_uri()}">
<img src="http://127.0.0.1:{port}/logo.png">
<a rel="attachment" href="{files['secret'].as_uri()}">pièce jointe</a>
<a rel="attachment" href="file:///etc/hostname">host</a>
</body></html>"""


def leaks(pdf: bytes, mark: str) -> list[str]:
    """What of the host files is in the PDF: its text, its attachments."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    found = [line for line in text.splitlines() if "SECRET" in line or mark in line]
    found += [f"attachment {name}" for name in reader.attachments]
    return found


def test_a_letter_cannot_embed_host_files_nor_fetch_the_network(host_files, web, caplog):
    caplog.set_level(logging.WARNING, logger="recouvrement.adapters.pdf")
    pdf = WeasyPrintRenderer().render(hostile_letter(host_files, web))
    assert "Madame, Monsieur" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert leaks(pdf, host_files["mark"]) == []
    assert Recorder.hits == []
    refused = [r.getMessage() for r in caplog.records if r.name == "recouvrement.adapters.pdf"]
    assert any(str(host_files["secret"]) in m for m in refused), refused
    assert any("/etc/hostname" in m for m in refused) and any("127.0.0.1" in m for m in refused)


def test_the_templates_own_files_are_still_read_and_nothing_else(tmp_path):
    from recouvrement.adapters.pdf import local_fetcher

    fetch = local_fetcher([tmp_path / "mine", DEFAULT_TEMPLATES])
    own = fetch((DEFAULT_TEMPLATES / "dossier" / "dossier.css").as_uri())
    assert own.read() == (DEFAULT_TEMPLATES / "dossier" / "dossier.css").read_bytes()
    own.close()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    mine = fetch((tmp_path / "mine" / "logo.svg").as_uri())
    assert mine.read().startswith(b"<svg")
    mine.close()
    outside = tmp_path / "secret.txt"
    outside.write_text("SECRET")
    (tmp_path / "mine" / "link.css").symlink_to(outside)  # a symlink in a templates folder
    for url in (outside.as_uri(), (tmp_path / "mine" / "link.css").as_uri(),
                f"{(tmp_path / 'mine').as_uri()}/../secret.txt", "file:///etc/hostname",
                "file://otherhost/etc/hostname", "http://127.0.0.1:9/x.css",
                "https://example.com/x.png", "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError, match="refused"):
            fetch(url)
    assert fetch("data:text/css,body%7Bcolor:red%7D").read() == b"body{color:red}"


@pytest.mark.smtp
@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_tampered_letter_in_the_outbox_mails_no_host_file(database_url, tmp_path, sink,
                                                           host_files, web):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_customers(inbox, [customer("411DURAND"), customer("411SANSMAIL", email="")])
    write_invoices(inbox, DAY, [invoice("F-1", "411DURAND", DAY), invoice("F-2", "411SANSMAIL", DAY)])
    db = Database(database_url)
    creditor = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                        iban="FR76 3000 6000 0112 3456 7890 189")
    try:
        with db.session() as s:
            ingest_inbox(s, inbox, actor="t", run_id=None, today=DAY)
        with db.session() as s:
            plan_reminders(s, today=DAY, policy=load_policy(), creditor=creditor, actor="t",
                           run_id="r")
            # The attacker's write: every letter, and the channel so that it goes by post too.
            s.execute(update(Reminder).values(letter_html=hostile_letter(host_files, web),
                                              channel="email,letter", mime=None))
            s.execute(insert(ReminderDelivery).from_select(
                ["reminder_id", "channel", "status", "attempts"],
                select(Reminder.id, literal("letter"), literal("planned"), literal(0))
                .where(~select(ReminderDelivery.id).where(
                    ReminderDelivery.reminder_id == Reminder.id,
                    ReminderDelivery.channel == "letter").exists())))
        queue = tmp_path / "letters"
        report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                             sender=creditor.sender, actor="t", run_id="r",
                             pacing=Pacing(retries=0), post=Post(PrintQueue(queue),
                                                                 WeasyPrintRenderer()))
        assert len(report.sent) == 2 and report.failed == []
        pdfs = [p.read_bytes() for p in (queue / DAY.isoformat()).glob("*.pdf")]
        pdfs += [a.get_content() for m in sink.messages for a in m.iter_attachments()]
        assert len(pdfs) == 3  # two letters in the queue, one attached to the e-mail
        for pdf in pdfs:
            assert leaks(pdf, host_files["mark"]) == []
        assert Recorder.hits == []
    finally:
        db.dispose()
