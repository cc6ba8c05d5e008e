"""One poisoned reminder is that reminder's failure, never the run's.

The attack: one account with a `/` (or a letter the renderer chokes on, a
print folder that refuses one file) made the letter impossible to write; the
error escaped the send step, every other debtor's reminder stayed unsent,
escalation never ran, and the row came back after its lease to fail again on
every run. Now the reminder is recorded failed with its error, the others go
out, and after a bounded number of attempts the outbox gives up on it
(`needs_attention`) and says so, for a person to look at.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from recouvrement.entrypoints.cli import main as cli
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Debtor, Reminder
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

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 10, 1)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")
ACCOUNTS = [f"411D{n}" for n in range(6)]


class ChokingRenderer(FakePdfRenderer):
    """A renderer that crashes on one debtor's letter, as WeasyPrint may on odd HTML."""

    def render(self, html, *, base_url=None):
        if "Poison SARL" in html:
            raise RecursionError("maximum recursion depth exceeded while laying out a table")
        return super().render(html, base_url=base_url)


@pytest.fixture
def db(database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # By letter only (no e-mail address): each reminder needs its PDF.
    rows = [customer(a, email="", name="Poison SARL" if a == "411D2" else f"{a} SARL")
            for a in ACCOUNTS]
    rows[1] = customer("411D1")  # this one by e-mail
    write_customers(inbox, rows)
    write_invoices(inbox, DAY, [invoice(f"F{a}", a, DAY, "500.00") for a in ACCOUNTS])
    database = Database(database_url)
    with database.session() as s:
        ingest_inbox(s, inbox, actor="t", run_id=None, today=DAY)
    with database.session() as s:
        plan_reminders(s, today=DAY, policy=load_policy(), creditor=CREDITOR, actor="t", run_id="r")
    yield database
    database.dispose()


def send(db, sink, post, **kw):
    return send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                       sender=CREDITOR.sender, actor="t", run_id="r", pacing=Pacing(retries=0),
                       post=post, **kw)


def statuses(db):
    with db.session() as s:
        return dict(s.execute(select(Debtor.account, Reminder.status)
                              .join(Debtor, Debtor.id == Reminder.debtor_id)).all())


def test_a_renderer_crash_on_one_letter_fails_that_reminder_only(db, sink, tmp_path):
    post = Post(PrintQueue(tmp_path / "letters"), ChokingRenderer())
    report = send(db, sink, post)
    assert sorted(s["account"] for s in report.sent) == [a for a in ACCOUNTS if a != "411D2"]
    [failed] = report.failed
    assert failed["account"] == "411D2" and "RecursionError" in failed["error"]
    assert statuses(db)["411D2"] == "failed"
    with db.session() as s:
        row = s.scalar(select(Reminder).join(Debtor).where(Debtor.account == "411D2"))
    assert "RecursionError" in row.last_error and row.attempts == 1


def test_a_letter_the_print_folder_refuses_fails_that_reminder_only(db, sink, tmp_path):
    letters = tmp_path / "letters"
    with db.session() as s:
        key = s.scalar(select(Reminder.key).join(Debtor).where(Debtor.account == "411D3"))
    # Where 411D3's letter goes, something that is not a file: the write fails, for it alone.
    (letters / DAY.isoformat() / f"411D3-L1-{key[:12]}.pdf").mkdir(parents=True)
    report = send(db, sink, Post(PrintQueue(letters), FakePdfRenderer()))
    assert sorted(s["account"] for s in report.sent) == [a for a in ACCOUNTS if a != "411D3"]
    [failed] = report.failed
    assert failed["account"] == "411D3" and "print queue" in failed["error"]
    assert statuses(db)["411D3"] == "failed"


def test_an_e_mail_that_cannot_be_built_fails_that_reminder_only(db, sink, tmp_path,
                                                                 monkeypatch):
    import recouvrement.services.sending as sending

    real = sending.build_email

    def choking(rendered, **kw):
        if kw["debtor_account"] == "411D1":
            raise KeyError("charset")
        return real(rendered, **kw)

    monkeypatch.setattr(sending, "build_email", choking)
    with db.session() as s:
        s.execute(update(Reminder).values(mime=None))  # built at sending time
    report = send(db, sink, Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer()))
    assert sorted(s["account"] for s in report.sent) == [a for a in ACCOUNTS if a != "411D1"]
    [failed] = report.failed
    assert failed["account"] == "411D1" and "e-mail could not be built: KeyError" in failed["error"]
    assert sink.messages == []


def test_the_outbox_gives_up_after_its_attempts_and_says_so(db, sink, tmp_path):
    post = Post(PrintQueue(tmp_path / "letters"), ChokingRenderer())
    for attempt in (1, 2):
        report = send(db, sink, post, max_attempts=3)
        assert [f["account"] for f in report.failed] == ["411D2"], attempt
        assert statuses(db)["411D2"] == "failed"
    report = send(db, sink, post, max_attempts=3)
    [failed] = report.failed
    assert failed["given_up"] and "3 attempts" in failed["error"]
    assert statuses(db)["411D2"] == "needs_attention"
    # Later runs leave it alone: no more crashes, nothing counted as failed again.
    for _ in range(2):
        report = send(db, sink, post, max_attempts=3)
        assert report.failed == [] and report.sent == []
    with db.session() as s:
        row = s.scalar(select(Reminder).join(Debtor).where(Debtor.account == "411D2"))
        events = s.scalars(select(AuditEntry.event).where(AuditEntry.subject == row.key)).all()
    assert row.attempts == 3 and "RecursionError" in row.last_error
    assert events.count("reminder.failed") == 2 and events.count("reminder.given_up") == 1
    assert set(statuses(db).values()) == {"sent", "needs_attention"}


def test_a_person_sees_what_was_given_up_and_puts_it_back(db, sink, tmp_path, database_url,
                                                          monkeypatch):
    post = Post(PrintQueue(tmp_path / "letters"), ChokingRenderer())
    send(db, sink, post, max_attempts=1)
    monkeypatch.setenv("RECOUVREMENT_DATABASE_URL", database_url)
    listed = CliRunner().invoke(cli, ["outbox", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["account"], row["status"], row["attempts"]) == ("411D2", "needs_attention", 1)
    assert "RecursionError" in row["error"] and "outbox retry" in row["error"]
    for wrong in ("%", "0000000000", row["key"][:4]):
        refused = CliRunner().invoke(cli, ["outbox", "retry", wrong])
        assert refused.exit_code == 2 and "error:" in refused.output, wrong
    again = CliRunner().invoke(cli, ["outbox", "retry", row["key"][:10]])
    assert again.exit_code == 0 and "back in the outbox" in again.output, again.output
    assert statuses(db)["411D2"] == "planned"
    report = send(db, sink, Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer()),
                  max_attempts=1)
    assert [s["account"] for s in report.sent] == ["411D2"]
    with db.session() as s:
        events = s.scalars(select(AuditEntry.event).join(
            Reminder, Reminder.key == AuditEntry.subject).where(Reminder.level == 1)).all()
    assert "reminder.retried" in events


def test_a_reminder_that_kills_the_run_every_time_is_given_up_too(db, sink, tmp_path):
    """A crash that leaves no outcome (killed, out of memory): the lease brings it back, bounded."""
    long_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    with db.session() as s:
        key = s.scalar(select(Reminder.key).join(Debtor).where(Debtor.account == "411D4"))
        s.execute(update(Reminder).where(Reminder.key == key)
                  .values(status="sending", attempts=3, claimed_at=long_ago, claimed_by="dead"))
    report = send(db, sink, Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer()),
                  max_attempts=3)
    assert [f["account"] for f in report.failed] == ["411D4"] and report.failed[0]["given_up"]
    assert statuses(db)["411D4"] == "needs_attention"
    assert len(report.sent) == len(ACCOUNTS) - 1
