"""Reminders through the outbox to a real SMTP server on loopback: each one exactly once."""

from __future__ import annotations

import email.policy
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from email.parser import BytesParser

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.factories import at_once, customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
POLICY = load_policy()


@pytest.fixture
def db(database_url, tmp_path):
    database = Database(database_url)
    write_customers(tmp_path, [customer(f"411D{i:02d}") for i in range(12)])
    write_invoices(tmp_path, DAY, [invoice(f"F{i:02d}", f"411D{i:02d}", date(2026, 10, 1),
                                           f"{100 + i}.00") for i in range(12)])
    ingest(database, tmp_path, DAY)
    yield database
    database.dispose()


def ingest(db, inbox, day):
    with db.session() as session:
        return ingest_inbox(session, inbox, actor="test", run_id=None, today=day)


def plan(db, day=DAY, account=None):
    with db.session() as session:
        return plan_reminders(session, today=day, policy=POLICY, creditor=CREDITOR, actor="test",
                              run_id="run", account=account)


def send(db, sink, day=DAY, account=None, run_id="run", pacing=Pacing(retries=0)):
    return send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=day,
                       sender=CREDITOR.sender, actor="test", run_id=run_id, account=account,
                       pacing=pacing)


def pay_later(db, tmp_path, number):
    """The next day's export no longer lists the invoice: it was paid."""
    later = tmp_path / "later"
    later.mkdir()
    write_invoices(later, DAY + timedelta(days=1),
                   [invoice(f"F{i:02d}", f"411D{i:02d}", date(2026, 10, 1), f"{100 + i}.00")
                    for i in range(12) if f"F{i:02d}" != number])
    ingest(db, later, DAY + timedelta(days=1))


def rows(db):
    with db.session() as session:
        return {r.recipient: r for r in session.scalars(select(Reminder))}


def test_reminders_arrive_with_the_contract_headers_and_a_rerun_sends_nothing(db, sink):
    assert len(plan(db).planned) == 12
    report = send(db, sink)
    assert len(report.sent) == 12 and sink.connections == 1
    message = next(m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411D03")
    assert message["X-Recouvrement-Level"] == "1"
    assert message["X-Recouvrement-Invoices"] == "F03"
    assert message["Message-ID"] == rows(db)["compta@d03.example.com"].message_id
    assert {r.status for r in rows(db).values()} == {"sent"}

    assert plan(db).planned == [] and send(db, sink).sent == []
    assert len(sink.messages) == 12


def test_a_transient_failure_is_retried_on_the_next_run_with_the_same_message_id(db, sink):
    plan(db, account="411D00")
    sink.fail_next(451)
    report = send(db, sink)
    assert report.sent == [] and len(report.failed) == 1 and not report.failed[0]["permanent"]
    assert rows(db)["compta@d00.example.com"].status == "failed"
    assert plan(db, account="411D00").planned == []  # waits for its retry, decides nothing new

    assert len(send(db, sink).sent) == 1
    [message] = sink.messages
    assert message["Message-ID"] == rows(db)["compta@d00.example.com"].message_id


def test_an_invoice_paid_between_planning_and_sending_cancels_its_reminder(db, sink, tmp_path):
    plan(db, account="411D05")
    pay_later(db, tmp_path, "F05")
    report = send(db, sink)
    assert [c["account"] for c in report.cancelled] == ["411D05"]
    assert sink.messages == []
    assert rows(db)["compta@d05.example.com"].status == "cancelled"


def test_a_send_interrupted_by_a_crash_is_resumed_once_and_only_after_its_lease(db, sink):
    plan(db, account="411D07")
    with db.session() as session:  # a run that claimed the row, then died mid-send
        session.execute(update(Reminder).values(status="sending", claimed_by="dead-run",
                                                claimed_at=datetime.now(timezone.utc),
                                                attempts=Reminder.attempts + 1))
    assert send(db, sink).sent == []  # its lease still holds: maybe it is still sending
    with db.session() as session:
        session.execute(update(Reminder).values(
            claimed_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    assert len(send(db, sink).sent) == 1
    assert send(db, sink).sent == []
    assert len(sink.messages) == 1
    assert rows(db)["compta@d07.example.com"].attempts == 2


def test_two_runs_at_once_send_each_reminder_exactly_once(db, sink):
    def run(run_id):
        plan(db)
        send(db, sink, run_id=run_id)

    at_once(lambda: run("run-1"), lambda: run("run-2"), timeout=120)
    debtors = sorted(m["X-Recouvrement-Debtor"] for m in sink.messages)
    assert debtors == sorted(f"411D{i:02d}" for i in range(12))
    assert len(rows(db)) == 12


def test_progress_is_told_as_each_reminder_is_recorded(db, sink, tmp_path):
    plan(db)
    pay_later(db, tmp_path, "F05")  # its reminder is cancelled
    told = []

    def progress(done, total):
        statuses = Counter(r.status for r in rows(db).values())
        told.append((done, total, statuses["sent"] + statuses["cancelled"] >= done,
                     statuses["sending"] <= 1))

    report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                         sender=CREDITOR.sender, actor="test", run_id="run",
                         pacing=Pacing(retries=0), progress=progress)
    assert len(report.sent) == 11 and len(report.cancelled) == 1
    assert told == [(done, 12, True, True) for done in range(1, 13)]


def test_transient_errors_are_retried_with_backoff_within_the_run(db, sink):
    plan(db, account="411D01")
    sink.fail_next(451, count=2)
    waits = []
    pacing = Pacing(retries=3, backoff_seconds=0.5)
    report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                         sender=CREDITOR.sender, actor="test", run_id="run",
                         pacing=_recording(pacing, waits))
    assert len(report.sent) == 1 and waits == [0.5, 1.0]
    assert len(sink.messages) == 1


def test_a_permanent_refusal_is_not_retried(db, sink):
    plan(db, account="411D02")
    sink.fail_next(550, count=1)
    waits = []
    report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                         sender=CREDITOR.sender, actor="test", run_id="run",
                         pacing=_recording(Pacing(retries=3, backoff_seconds=0.5), waits))
    assert report.failed[0]["permanent"] and report.failed[0]["given_up"] and waits == []
    # Refused for good: a person fixes the address (`outbox list`, `outbox retry`).
    assert rows(db)["compta@d02.example.com"].status == "needs_attention"


def _recording(pacing, waits):
    """The same pacing, with its sleeps recorded instead of slept."""
    class Recorded(Pacing):
        def deliver(self, mailer, message, sleep=None):
            return Pacing.deliver(self, mailer, message, sleep=waits.append)

    return Recorded(pacing.retries, pacing.backoff_seconds, pacing.rate_per_second)


def test_the_e_mail_is_built_once_when_planned_and_goes_out_as_built_dated_when_sent(db, sink):
    plan(db, account="411D04")
    row = rows(db)["compta@d04.example.com"]
    mime = wire_of(db, row)
    planned = BytesParser(policy=email.policy.default).parsebytes(mime)
    assert planned["Date"] is None and planned["Message-ID"] == row.message_id
    assert b"\n" not in mime.replace(b"\r\n", b"")  # CRLF line ends: the wire's own

    send(db, sink)
    [message] = sink.messages
    assert message["Date"] is not None
    for name, value in planned.items():
        assert str(message[name]) == str(value), name
    text = message.get_body(("plain",)).get_content()
    assert text == planned.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == row.body_text


def wire_of(db, row):
    with db.session() as session:
        return session.scalar(select(Reminder.mime).where(Reminder.id == row.id))


def test_a_reminder_planned_before_the_sender_changed_goes_out_from_the_new_sender(db, sink):
    plan(db, account="411D08")
    row = rows(db)["compta@d08.example.com"]
    assert wire_of(db, row).startswith(b"From: relances@creancier.example.com\r\n")
    send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                sender="Nouveau Nom <recouvrement@nouveau.example.org>", actor="test",
                run_id="run", pacing=Pacing(retries=0))
    [message] = sink.messages
    [envelope] = sink.envelopes
    assert message["From"] == "Nouveau Nom <recouvrement@nouveau.example.org>"
    assert envelope.mail_from == "recouvrement@nouveau.example.org"
    assert message["Message-ID"] == row.message_id


def test_a_reminder_planned_without_its_wire_form_is_built_when_sent(db, sink):
    """Rows planned before migration 0006, or whose address could not be used then."""
    plan(db, account="411D06")
    with db.session() as session:
        session.execute(update(Reminder).values(mime=None))
    assert len(send(db, sink).sent) == 1
    [message] = sink.messages
    assert message["Message-ID"] == rows(db)["compta@d06.example.com"].message_id
    assert message["X-Recouvrement-Debtor"] == "411D06" and message["Date"] is not None
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == rows(db)[
        "compta@d06.example.com"].body_text


class _CutsTheDatabaseAfterThird(SmtpMailer):
    """A relay session during which the database drops every other connection, once."""

    def __init__(self, port, db):
        super().__init__("127.0.0.1", port)
        self.db, self.calls = db, 0

    def send(self, message):
        super().send(message)
        self.calls += 1
        if self.calls == 3:
            with self.db.engine.connect() as connection:
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"))


def test_a_database_connection_lost_mid_batch_is_replaced_and_the_batch_goes_on(
        database_url, db, sink):
    if not database_url.startswith("postgresql"):
        pytest.skip("connections are dropped by PostgreSQL")
    plan(db)
    report = send_outbox(db, lambda: _CutsTheDatabaseAfterThird(sink.port, db), today=DAY,
                         sender=CREDITOR.sender, actor="test", run_id="run",
                         pacing=Pacing(retries=0))
    assert len(report.sent) == 12 and report.failed == []
    assert {r.status for r in rows(db).values()} == {"sent"}
    assert len({m["Message-ID"] for m in sink.messages}) == len(sink.messages) == 12
