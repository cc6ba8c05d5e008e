"""A reminder goes to the debtor's address of the day it is sent, not of the day it was planned."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.adapters.pdf import WeasyPrintRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY, NEXT = date(2026, 11, 2), date(2026, 11, 3)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")
OLD, NEW = "ancienne@dupont.example.fr", "compta@dupont.example.fr"


@pytest.fixture
def failed_once(database_url, tmp_path, sink):
    """A reminder planned to the old address, whose first sending the relay deferred."""
    db = Database(database_url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_customers(inbox, [customer("411DUPONT", email=OLD), customer("411MARTIN")])
    write_invoices(inbox, DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                invoice("F2", "411MARTIN", date(2026, 10, 1))])
    ingest(db, inbox, DAY)
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=load_policy(), creditor=CREDITOR, actor="test",
                       run_id="plan")
    sink.fail_next(451, at="rcpt")  # greylisted: to be retried on the next run
    first = send(db, sink, DAY, tmp_path)
    assert [f["account"] for f in first.failed] == ["411DUPONT"]
    sink.clear()
    yield db, inbox
    db.dispose()


def ingest(db, inbox, day):
    with db.session() as session:
        ingest_inbox(session, inbox, actor="test", run_id=None, today=day)


def send(db, sink, day, tmp_path):
    post = Post(PrintQueue(tmp_path / "letters"), WeasyPrintRenderer())
    return send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=day,
                       sender=CREDITOR.sender, actor="test", run_id="send", post=post,
                       pacing=Pacing(retries=0))


def dupont(db):
    with db.session() as session:
        row = session.scalars(select(Reminder).where(Reminder.invoice_numbers.is_not(None))
                              .order_by(Reminder.id)).first()
        event = session.scalars(select(AuditEntry).where(
            AuditEntry.event.in_(("reminder.sent", "reminder.failed")),
            AuditEntry.account == "411DUPONT").order_by(AuditEntry.id.desc())).first()
        return row, event


def test_the_retry_goes_to_the_address_a_later_export_corrected(failed_once, sink, tmp_path):
    db, inbox = failed_once
    write_customers(inbox, [customer("411DUPONT", email=NEW), customer("411MARTIN")],
                    name="customers_20261103.csv")
    ingest(db, inbox, NEXT)

    report = send(db, sink, NEXT, tmp_path)

    assert [s["account"] for s in report.sent] == ["411DUPONT"] and report.letters == []
    [message] = sink.messages
    assert sink.envelopes[0].rcpt_tos == (NEW,) and message["To"] == NEW
    assert message["X-Recouvrement-Debtor"] == "411DUPONT"
    row, event = dupont(db)
    assert (row.status, row.recipient) == ("sent", NEW)
    assert message["Message-ID"] == row.message_id  # the same reminder, readdressed
    assert event.event == "reminder.sent" and event.details["email"] == NEW
    assert event.details["address_changed"] == {"planned": OLD, "now": NEW}


def test_an_address_removed_since_cancels_the_email_and_the_letter_goes(failed_once, sink,
                                                                        tmp_path):
    db, inbox = failed_once
    write_customers(inbox, [customer("411DUPONT", email=""), customer("411MARTIN")],
                    name="customers_20261103.csv")
    ingest(db, inbox, NEXT)

    report = send(db, sink, NEXT, tmp_path)

    assert sink.messages == []  # nothing to the address the debtor no longer gives
    assert [s["account"] for s in report.sent] == ["411DUPONT"]
    [letter] = report.letters
    assert (tmp_path / "letters").exists() and letter["file"].endswith(".pdf")
    [switched] = report.switched
    assert "no e-mail address any more" in switched["error"]
    row, event = dupont(db)
    assert row.status == "sent" and row.recipient is None and row.letter_file == letter["file"]
    assert "no e-mail address any more" in event.details["email_cancelled"]
    assert "email" not in event.details
