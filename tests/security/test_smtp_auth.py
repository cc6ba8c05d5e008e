"""A relay that refuses the login, or echoes it: no letter instead, no credential shown."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import PermanentSendError, RelayRefused, SmtpMailer
from recouvrement.adapters.mail.redaction import Redactor
from recouvrement.adapters.mail.render import Creditor
from recouvrement.adapters.pdf import WeasyPrintRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices
from tests.security.relays import PASSWORD, USER, Relay, secret_forms

DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Exemple SAS", sender=USER, iban="FR76 3000 6000 0112 3456 7890 189")

# What a relay answers when the account is wrong: at AUTH (535 bad password,
# 530 "authenticate first"), or at MAIL when no login was given at all.
REFUSALS = {
    "535 at AUTH": dict(relay={}, password="not-the-" + PASSWORD),
    "530 at AUTH": dict(relay={"auth_reply": "530 5.7.0 Must issue a STARTTLS command first"},
                        password=PASSWORD),
    "530 at MAIL": dict(relay={}, password=None),
}


@pytest.fixture
def ledger(database_url, tmp_path):
    db = Database(database_url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_customers(inbox, [customer(f"411R{i}") for i in range(4)])
    write_invoices(inbox, DAY, [invoice(f"R{i}", f"411R{i}", date(2026, 10, 1)) for i in range(4)])
    with db.session() as session:
        ingest_inbox(session, inbox, actor="test", run_id=None, today=DAY)
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=load_policy(), creditor=CREDITOR, actor="test",
                       run_id="plan")
    yield db
    db.dispose()


def logged(caplog) -> str:
    """What the product logged (the test relay's own server log, `mail.log`, left out)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))


def outbox(db):
    with db.session() as session:
        return [(r.status, r.attempts, r.claimed_by, r.letter_file, r.channel)
                for r in session.scalars(select(Reminder).order_by(Reminder.id))]


def audit_events(db):
    with db.session() as session:
        return [(e.event, e.details) for e in session.scalars(select(AuditEntry)
                                                              .order_by(AuditEntry.id))]


@pytest.mark.smtp
@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_login_changes_nothing_and_sends_no_letter(ledger, tmp_path, case):
    relay_kwargs, password = REFUSALS[case]["relay"], REFUSALS[case]["password"]
    before_outbox, before_audit = outbox(ledger), audit_events(ledger)
    post = Post(PrintQueue(tmp_path / "letters"), WeasyPrintRenderer())
    with Relay(**relay_kwargs) as relay:
        user = USER if password is not None else None
        with pytest.raises(RelayRefused) as refused:
            send_outbox(ledger, lambda: SmtpMailer("127.0.0.1", relay.port, user=user,
                                                   password=password, timeout=5),
                        today=DAY, sender=USER, actor="test", run_id="send", post=post,
                        pacing=Pacing(retries=0))
        assert relay.received == []
    assert "\n" not in str(refused.value)
    assert outbox(ledger) == before_outbox  # planned, unclaimed, no letter, nothing sent
    assert audit_events(ledger) == before_audit
    assert not (tmp_path / "letters").exists() or not any((tmp_path / "letters").rglob("*.pdf"))


@pytest.mark.smtp
def test_a_relay_that_echoes_the_auth_line_shows_no_credential(caplog):
    caplog.set_level(logging.DEBUG)
    with Relay(auth_reply="535 5.7.8 Authentication failed for AUTH {arg}") as relay:
        with SmtpMailer("127.0.0.1", relay.port, user=USER, password=PASSWORD,
                        timeout=5) as mailer:
            with pytest.raises(RelayRefused) as refused:
                mailer.send(_message())
        sent = list(relay.auth_lines)
    assert sent and any("PLAIN" in line for line in sent)  # the echo was there to leak
    shown = str(refused.value) + repr(refused.value) + logged(caplog)
    for secret in [*secret_forms(), *(line.split()[-1] for line in sent)]:
        assert secret not in shown
    assert "535" in str(refused.value) and "check RECOUVREMENT_SMTP_USER" in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


@pytest.mark.smtp
def test_a_refused_password_quoted_back_plain_and_in_base64_is_masked():
    with Relay(echo=True) as relay:
        wrong = "not-the-" + PASSWORD
        with SmtpMailer("127.0.0.1", relay.port, user=USER, password=wrong, timeout=5) as mailer:
            with pytest.raises(RelayRefused) as refused:
                mailer.send(_message())
    for secret in secret_forms(password=wrong):
        assert secret not in str(refused.value)


@pytest.mark.smtp
def test_a_reply_to_data_that_quotes_the_auth_argument_is_masked():
    with Relay(data_reply="554 5.6.0 Rejected, your AUTH {arg} is listed") as relay:
        with SmtpMailer("127.0.0.1", relay.port, user=USER, password=PASSWORD,
                        timeout=5) as mailer:
            with pytest.raises(PermanentSendError) as refused:
                mailer.send(_message())
        sent = relay.auth_lines[-1].split()[-1]
    assert "554" in str(refused.value)
    for secret in [*secret_forms(), sent]:
        assert secret not in str(refused.value)


@pytest.mark.parametrize("text", [
    "AUTH PLAIN {plain}", "you said {plain}.", "x={plain_urlsafe}", "AUTH LOGIN {user}",
    "password {password} refused", "prefix{embedded}suffix",
])
def test_the_redactor_masks_every_form(text):
    import base64

    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    forms = {"plain": b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()),
             "plain_urlsafe": base64.urlsafe_b64encode(b"id\0" + PASSWORD.encode()).decode(),
             "user": b64(USER.encode()), "password": PASSWORD,
             "embedded": b64(b"zz" + PASSWORD.encode() + b"tail")}
    redacted = Redactor(USER, PASSWORD)(text.format(**forms))
    assert "***" in redacted
    assert not any(value in redacted for value in forms.values())


def test_the_redactor_leaves_ordinary_replies_alone():
    reply = "SMTP relay.example.com:587: 550 5.1.1 <compta@dupont.example.fr>: Mailbox unknown"
    assert Redactor(USER, PASSWORD)(reply) == reply


def _message():
    from recouvrement.adapters.mail.render import RenderedReminder, build_email, make_message_id

    return build_email(RenderedReminder("Relance", "texte", "<p>texte</p>"), sender=USER,
                       to="compta@dupont.example.fr", debtor_account="411DUPONT", level=1,
                       invoice_numbers=["F1"], message_id=make_message_id("k", "example.com"))


# --- the same, as the user runs it ------------------------------------------------------

@pytest.fixture(scope="module")
def prefect():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _cli_home(home, monkeypatch, relay, password):
    write_customers(home / "inbox", [customer("411DUPONT"), customer("411MARTIN")])
    write_invoices(home / "inbox", DAY, [invoice("F1", "411DUPONT", date(2026, 10, 1)),
                                         invoice("F2", "411MARTIN", date(2026, 10, 2))])
    monkeypatch.setenv("RECOUVREMENT_SMTP_PORT", str(relay.port))
    monkeypatch.setenv("RECOUVREMENT_SMTP_USER", USER)
    monkeypatch.setenv("RECOUVREMENT_SMTP_PASSWORD", password)
    monkeypatch.setenv("RECOUVREMENT_SENDER", USER)
    monkeypatch.setenv("RECOUVREMENT_CREDITOR_IBAN", "FR76 3000 6000 0112 3456 7890 189")


def _run():
    from recouvrement.entrypoints.cli import main

    return CliRunner().invoke(main, ["run", "--as-of", DAY.isoformat()])


@pytest.mark.flow
@pytest.mark.smtp
def test_run_with_a_wrong_password_fails_its_sending_in_one_line(prefect, home, monkeypatch,
                                                                  database_url, caplog):
    with Relay(auth_reply="535 5.7.8 Authentication failed for AUTH {arg}") as relay:
        _cli_home(home, monkeypatch, relay, PASSWORD)
        result = _run()
    assert result.exit_code == 1, result.output
    # One line says what to fix (Prefect's own log of the failed task may come before it).
    [line] = [l for l in result.stderr.splitlines() if l.startswith("Run failed:")]
    assert "step send-reminders" in line and "refused the login" in line
    assert "(535 5.7.8 Authentication failed for AUTH LOGIN ***): check RECOUVREMENT_SMTP_USER" \
        in line
    db = Database(database_url)
    assert {r[0] for r in outbox(db)} == {"planned"} and all(r[1] == 0 for r in outbox(db))
    assert {e for e, _ in audit_events(db) if e.startswith("reminder.")} == {"reminder.planned"}
    assert not list((home / "letters").rglob("*.pdf")) if (home / "letters").exists() else True
    everything = result.stdout + result.stderr + logged(caplog) + repr(audit_events(db))
    for secret in secret_forms():
        assert secret not in everything


@pytest.mark.flow
@pytest.mark.smtp
def test_run_audits_a_refusal_that_quotes_the_auth_argument_without_it(prefect, home,
                                                                       monkeypatch, database_url,
                                                                       caplog):
    with Relay(data_reply="554 5.6.0 Rejected, your AUTH {arg} is listed") as relay:
        _cli_home(home, monkeypatch, relay, PASSWORD)
        result = _run()
        sent = {line.split()[-1] for line in relay.auth_lines}
    assert "by letter instead" in result.stdout  # refused for good: the letter goes instead
    db = Database(database_url)
    audited = repr(audit_events(db))
    assert "554 5.6.0" in audited
    everything = result.stdout + result.stderr + logged(caplog) + audited
    for secret in [*secret_forms(), *sent]:
        assert secret not in everything
