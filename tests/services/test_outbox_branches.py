"""Every branch of the outbox, on fakes: what each delivery becomes, and what is sent once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from recouvrement.adapters.channels.phone import PhoneChannel
from recouvrement.adapters.channels.sms import SmsChannel
from recouvrement.adapters.channels.sms_consent import opt_in, opt_out
from recouvrement.adapters.channels.sms_providers import ProviderRefused
from recouvrement.adapters.db.models import AuditEntry, Invoice, Reminder, ReminderDelivery
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.mail.mailer import FakeMailer, PermanentSendError, TransientSendError
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.outbox import retry, waiting_rows
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.services.outbox_fakes import FakeSmsProvider, add_debtor, at, fresh_ledger

DAY = date(2026, 11, 2)  # a Monday
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")
POLICY_YAML = """
name: with-sms
levels:
  - {level: 1, offset_days: 0, relative_to: due_date, channels: [email, sms, phone],
     kind: reminder, template: level1}
  - {level: 2, offset_days: 15, relative_to: previous_level, channels: [email, letter],
     kind: reminder, registered: true, template: level2}
  - {level: 3, offset_days: 8, relative_to: previous_level, channels: [email, letter],
     kind: formal_notice, registered: true, template: level3}
"""


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML, encoding="utf-8")
    return load_policy(path)


@pytest.fixture
def db(ledger_template, tmp_path, policy):
    database = fresh_ledger(ledger_template, tmp_path)
    add_debtor(database, "411ALPHA", due=date(2026, 10, 20))
    with database.session() as session:
        plan_reminders(session, today=DAY, policy=policy, creditor=CREDITOR, actor="t",
                       run_id="plan")
    yield database
    database.dispose()


@pytest.fixture
def provider():
    return FakeSmsProvider()


def run(db, mailer, provider, *, clock=at(DAY, 10), max_attempts=5, run_id="run"):
    return send_outbox(db, lambda: mailer, today=DAY, sender=CREDITOR.sender, actor="t",
                       run_id=run_id, pacing=Pacing(retries=0), max_attempts=max_attempts,
                       channels=[PhoneChannel(), SmsChannel(provider)], now=clock)


def deliveries(db):
    with db.session() as session:
        return {d.channel: (d.status, d.attempts, d.proof, d.last_error)
                for d in session.scalars(select(ReminderDelivery))}


def reminder(db):
    with db.session() as session:
        return session.scalars(select(Reminder)).one()


def events(db):
    with db.session() as session:
        return [e.event for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if e.event.startswith(("reminder.", "delivery.", "sms."))]


def test_each_channel_goes_once_with_its_proof_and_a_rerun_sends_nothing(db, provider):
    mailer = FakeMailer()
    report = run(db, mailer, provider)
    row = reminder(db)
    assert row.status == "sent" and row.sent_on == DAY
    got = deliveries(db)
    assert got["email"][:3] == ("sent", 1, row.message_id)
    assert got["sms"][:3] == ("sent", 1, "fake:1")
    assert got["phone"][0] == "sent" and got["phone"][2].startswith("call:")
    [sms] = provider.sent
    assert sms["to"] == "+33612345678" and "Exemple SAS" in sms["text"]
    assert "FR7630006000011234567890189" in sms["text"] and "1 200,00 €" in sms["text"]
    assert [s["account"] for s in report.sent] == ["411ALPHA"]

    again = run(db, mailer, provider)
    assert again.sent == [] and len(mailer.sent) == 1 and len(provider.sent) == 1


def test_a_transient_sms_failure_is_retried_alone_the_email_is_not_sent_again(db, provider):
    mailer = FakeMailer()
    provider.fail(TransientSendError("the SMS provider answered 503"))
    report = run(db, mailer, provider)
    assert report.failed[0]["channels"] == ["sms"] and not report.failed[0]["permanent"]
    # The e-mail carried it: the ladder counts it sent; the SMS is tried again beside it.
    assert reminder(db).status == "sent"
    assert deliveries(db)["sms"][:2] == ("failed", 1)
    assert deliveries(db)["email"][0] == "sent"

    report = run(db, mailer, provider)
    assert [s["channels"] for s in report.sent] == [["sms"]]
    assert len(mailer.sent) == 1 and len(provider.sent) == 1
    assert reminder(db).status == "sent" and reminder(db).sent_on == DAY


def test_a_transient_email_failure_is_retried_on_the_next_run(db, provider):
    mailer = FakeMailer()
    mailer.fail("compta@exemple.example.com", TransientSendError("451 try later"))
    run(db, mailer, provider)
    assert deliveries(db)["email"][:2] == ("failed", 1) and reminder(db).status == "failed"
    run(db, mailer, provider)
    assert deliveries(db)["email"][:2] == ("sent", 2) and len(mailer.sent) == 1


def test_a_refusal_for_good_needs_attention_a_person_sees_and_retries(db, provider):
    mailer = FakeMailer()
    provider.fail(PermanentSendError("the SMS provider refused it (400): invalid sender"))
    report = run(db, mailer, provider)
    assert report.failed[0]["given_up"] and report.failed[0]["permanent"]
    assert reminder(db).status == "sent"  # the e-mail went: the ladder goes on
    assert deliveries(db)["sms"][0] == "needs_attention"
    assert "reminder.sent" in events(db)
    assert run(db, mailer, provider).failed == []  # not tried again on its own
    assert provider.calls == 1

    with db.session() as session:
        [row] = waiting_rows(session)
        assert (row["status"], row["channels"]) == ("needs_attention", "sms")
        assert "invalid sender" in row["error"]
        retry(session, row["key"], actor="a person")
    run(db, mailer, provider)
    assert len(provider.sent) == 1 and len(mailer.sent) == 1  # the e-mail went once
    assert reminder(db).status == "sent"


def test_attempts_spent_need_attention_and_say_how_many(db, provider):
    mailer = FakeMailer()
    provider.fail(TransientSendError("timeout"), times=2)
    run(db, mailer, provider, max_attempts=2)
    report = run(db, mailer, provider, max_attempts=2)
    assert report.failed[0]["given_up"] and "2 attempts" in report.failed[0]["error"]
    assert deliveries(db)["sms"][0] == "needs_attention"
    assert events(db).count("reminder.given_up") == 1


def test_a_reminder_no_longer_due_at_send_time_is_cancelled_and_nothing_goes(db, provider):
    with db.session() as session:
        session.execute(update(Invoice).values(status="settled", open_amount=0))
    mailer = FakeMailer()
    report = run(db, mailer, provider)
    assert [c["account"] for c in report.cancelled] == ["411ALPHA"]
    assert mailer.sent == [] and provider.sent == []
    assert reminder(db).status == "cancelled"
    assert deliveries(db)["email"][0] == deliveries(db)["sms"][0] == "cancelled"


def test_without_an_address_and_a_print_queue_the_email_needs_attention(
        ledger_template, tmp_path, policy, provider):
    db = fresh_ledger(ledger_template, tmp_path)
    add_debtor(db, "411SANS", email=None, phone="01 42 68 53 00", due=date(2026, 10, 20))
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=policy, creditor=CREDITOR, actor="t",
                       run_id="plan")
    report = run(db, FakeMailer(), provider)
    assert "no print queue" in report.failed[0]["error"]
    got = deliveries(db)
    assert got["letter"][0] == "needs_attention" and got.get("email", ("skipped",))[0] == "skipped"
    # A landline: no SMS, and the reason is on the delivery and in the report.
    assert got["sms"][0] == "skipped" and "landline" in got["sms"][3]
    assert "landline" in report.skipped[0]["why"] and provider.calls == 0
    db.dispose()


def test_a_lease_run_out_resends_the_email_under_its_message_id_but_never_the_sms(db, provider):
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    with db.session() as session:  # a run died after claiming it
        session.execute(update(Reminder).values(status="sending", attempts=1, claimed_at=old,
                                                claimed_by="dead"))
        session.execute(update(ReminderDelivery).where(ReminderDelivery.status == "planned")
                        .values(status="sending", attempts=1, claimed_at=old))
    mailer = FakeMailer()
    report = run(db, mailer, provider)
    assert [m["Message-ID"] for m in mailer.sent] == [reminder(db).message_id]
    assert provider.calls == 0
    status, attempts, _, error = deliveries(db)["sms"]
    assert status == "needs_attention" and "rec-" in error and "outbox retry" in error
    assert deliveries(db)["email"][:2] == ("sent", 2)
    # The run says so (exit 1): a person checks the provider's log, then retries or not.
    [failed] = report.failed
    assert failed["given_up"] and failed["channels"] == ["sms"] and "rec-" in failed["error"]
    assert reminder(db).status == "sent"
    with db.session() as session:
        [row] = waiting_rows(session)
        assert (row["status"], row["channels"]) == ("needs_attention", "sms")


@pytest.mark.parametrize("clock, why", [
    (at(DAY, 21, 30), "outside 08:00-20:00"),
    (at(DAY, 7, 59), "outside 08:00-20:00"),
    (at(date(2026, 11, 1), 11), "not a business day"),    # a Sunday
    (at(date(2026, 11, 11), 11), "not a business day"),   # Armistice
])
def test_an_sms_out_of_hours_waits_for_the_next_run_without_spending_an_attempt(
        db, provider, clock, why):
    mailer = FakeMailer()
    report = run(db, mailer, provider, clock=clock)
    assert why in report.deferred[0]["why"] and provider.calls == 0
    assert deliveries(db)["sms"][:2] == ("planned", 0)
    assert deliveries(db)["email"][0] == "sent" and len(mailer.sent) == 1
    row = reminder(db)
    assert row.status == "sent" and row.sent_on == DAY  # the ladder counts from the e-mail

    run(db, mailer, provider, clock=at(DAY + timedelta(days=1), 9))
    assert len(provider.sent) == 1 and len(mailer.sent) == 1
    assert reminder(db).status == "sent" and reminder(db).sent_on == DAY


def test_a_run_only_deferred_spends_no_attempt_of_the_reminder(db, provider):
    mailer = FakeMailer()
    run(db, mailer, provider, clock=at(DAY, 22))
    before = reminder(db).attempts
    for _ in range(3):
        run(db, mailer, provider, clock=at(DAY, 23))
    assert reminder(db).attempts == before and deliveries(db)["sms"][1] == 0


def test_a_debtor_who_answered_stop_is_never_texted(db, provider):
    with db.session() as session:
        opt_out(session, "411ALPHA", actor="a person", source="reply STOP")
        assert opt_out(session, "411ALPHA", actor="a person")["changed"] is False
    mailer = FakeMailer()
    report = run(db, mailer, provider)
    assert provider.calls == 0 and "answered STOP" in report.skipped[0]["why"]
    assert deliveries(db)["sms"][0] == "skipped" and reminder(db).status == "sent"
    with db.session() as session:
        opt_in(session, "411ALPHA", actor="a person")
    assert events(db).count("sms.opted_out") == 1 and events(db).count("sms.opted_in") == 1


def test_without_a_provider_the_sms_is_skipped_and_says_so(db):
    report = send_outbox(db, FakeMailer, today=DAY, sender=CREDITOR.sender, actor="t",
                         run_id="r", pacing=Pacing(retries=0), channels=[SmsChannel(None)],
                         now=at(DAY, 10))
    assert "no SMS provider" in report.skipped[0]["why"]
    assert deliveries(db)["sms"][0] == "skipped" and reminder(db).status == "sent"


def test_a_provider_that_refuses_the_account_fails_the_run_once_and_defers_the_rest(
        db, provider, policy):
    add_debtor(db, "411GAMMA", phone="07 81 23 45 67", due=date(2026, 10, 20))
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=policy, creditor=CREDITOR,
                       actor="t", run_id="plan")
    provider.fail(ProviderRefused("the SMS provider refused the account (401)"))
    report = run(db, FakeMailer(), provider)
    assert provider.calls == 1  # the second SMS is not offered to a provider that refuses all
    assert "refused the account" in report.failed[0]["error"]
    assert not report.failed[0]["permanent"]
    assert "not tried" in report.deferred[0]["why"]


def test_the_letter_of_an_email_that_failed_for_now_waits_with_it(ledger_template, tmp_path,
                                                                  policy, provider):
    from recouvrement.adapters.mail.letters import PrintQueue
    from recouvrement.adapters.pdf import FakePdfRenderer
    from recouvrement.services.sending import Post

    db = fresh_ledger(ledger_template, tmp_path)
    add_debtor(db, "411BETA", due=date(2026, 10, 1))
    with db.session() as session:  # level 1 sent on 1 Oct, level 2 (e-mail + letter) now
        plan_reminders(session, today=date(2026, 10, 1), policy=policy, creditor=CREDITOR,
                       actor="t", run_id="plan")
    post = Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer(), policy)
    mailer = FakeMailer()
    send_outbox(db, lambda: mailer, today=date(2026, 10, 1), sender=CREDITOR.sender, actor="t",
                run_id="r", pacing=Pacing(retries=0), post=post, now=at(date(2026, 10, 1), 10))
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=policy, creditor=CREDITOR, actor="t",
                       run_id="plan")
    mailer.fail("compta@exemple.example.com", TransientSendError("451 try later"))
    report = send_outbox(db, lambda: mailer, today=DAY, sender=CREDITOR.sender, actor="t",
                         run_id="r", pacing=Pacing(retries=0), post=post, now=at(DAY, 10))
    assert report.letters == [] and report.failed[0]["channels"] == ["email"]
    with db.session() as session:
        second = session.scalars(select(Reminder).where(Reminder.level == 2)).one()
        got = {d.channel: (d.status, d.attempts) for d in session.scalars(
            select(ReminderDelivery).where(ReminderDelivery.reminder_id == second.id))}
    assert second.status == "failed"  # not left `sending` until its lease runs out
    assert got == {"email": ("failed", 1), "letter": ("planned", 0)}
    report = send_outbox(db, lambda: mailer, today=DAY, sender=CREDITOR.sender, actor="t",
                         run_id="r", pacing=Pacing(retries=0), post=post, now=at(DAY, 11))
    assert len(report.letters) == 1 and report.failed == []
    db.dispose()


def test_an_sms_that_keeps_failing_holds_up_neither_the_ladder_nor_comes_after_it(
        db, provider, policy, tmp_path):
    from recouvrement.adapters.mail.letters import PrintQueue
    from recouvrement.adapters.pdf import FakePdfRenderer
    from recouvrement.services.sending import Post

    mailer = FakeMailer()
    provider.fail(TransientSendError("the SMS provider answered 503"), times=10)
    run(db, mailer, provider)
    assert deliveries(db)["sms"][0] == "failed" and reminder(db).status == "sent"
    later = DAY + timedelta(days=15)
    with db.session() as session:
        report = plan_reminders(session, today=later, policy=policy, creditor=CREDITOR,
                                actor="t", run_id="plan")
    assert [p["level"] for p in report.planned] == [2]  # the failing SMS did not block it
    post = Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer(), policy)
    report = send_outbox(db, lambda: mailer, today=later, sender=CREDITOR.sender, actor="t",
                         run_id="r", pacing=Pacing(retries=0), post=post,
                         channels=[SmsChannel(provider)], now=at(later, 10))
    assert [c["level"] for c in report.cancelled] == [1]  # the old SMS comes no more
    assert [s["level"] for s in report.sent] == [2] and provider.sent == []
    with db.session() as session:
        first = session.scalars(select(Reminder).where(Reminder.level == 1)).one()
        sms = session.scalars(select(ReminderDelivery).where(
            ReminderDelivery.reminder_id == first.id, ReminderDelivery.channel == "sms")).one()
    assert first.status == "sent" and sms.status == "cancelled"
    assert "later reminder" in sms.last_error


def test_a_sent_reminder_whose_run_died_on_its_sms_each_time_stays_sent(db, provider):
    mailer = FakeMailer()
    run(db, mailer, provider, clock=at(DAY, 22))  # the e-mail goes, the SMS waits
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    with db.session() as session:  # then runs die holding it, until its tries are spent
        session.execute(update(Reminder).values(status="sending", attempts=2, claimed_at=old))
        session.execute(update(ReminderDelivery).where(ReminderDelivery.channel == "sms")
                        .values(status="sending", attempts=1, claimed_at=old))
    report = run(db, mailer, provider, max_attempts=2)
    assert report.failed[0]["given_up"] and provider.calls == 0
    assert deliveries(db)["sms"][0] == "needs_attention"
    assert reminder(db).status == "sent" and reminder(db).sent_on == DAY
