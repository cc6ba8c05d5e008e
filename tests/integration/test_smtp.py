"""The real mailer against the real sink, on loopback: delivery, error mapping, one connection per batch."""

from __future__ import annotations

import logging
import mailbox
import socket
from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.model import Debtor
from recouvrement.adapters.mail.mailer import (PermanentSendError, RelayRefused, SmtpMailer,
                                      TransientSendError)
from recouvrement.adapters.mail.render import (
    Creditor,
    InvoiceRow,
    build_email,
    make_message_id,
    render_reminder,
)
from recouvrement.adapters.mail.sink import SmtpSink, free_port

pytestmark = pytest.mark.smtp

SENDER = "relances@durand.example.com"
PASSWORD = "s3cr3t-Pa55-w0rd"
HOSTILE_NAME = "<script>alert(1)</script> & Fils"


@pytest.fixture
def smtp_sink(tmp_path):
    with SmtpSink(port=0, maildir=tmp_path / "maildir") as sink:
        yield sink


def reminder(to: str = "compta@dupont.example.fr", key: str = "k1"):
    debtor = Debtor(account="411DUPONT", name=HOSTILE_NAME, email=to)
    rows = [InvoiceRow("F2026-0042", date(2026, 9, 7), date(2026, 10, 7), Decimal("1500.00"),
                       Decimal("1200.00"), "EUR", 46)]
    rendered = render_reminder(level=1, debtor=debtor, invoices=rows, as_of=date(2026, 11, 22),
                               creditor=Creditor(name="Outillage Durand", sender=SENDER))
    return rendered, build_email(rendered, sender=SENDER, to=to, debtor_account="411DUPONT",
                                 level=1, invoice_numbers=["F2026-0042"],
                                 message_id=make_message_id(key, "durand.example.com"))


def mailer(sink: SmtpSink, **kwargs) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", sink.port, timeout=5.0, **kwargs)


def test_sent_reminder_arrives_with_headers_and_both_parts(smtp_sink):
    rendered, message = reminder()
    with mailer(smtp_sink) as smtp:
        smtp.send(message)

    [received] = smtp_sink.wait_for(1)
    assert received["Message-ID"] == make_message_id("k1", "durand.example.com")
    assert received["X-Recouvrement-Debtor"] == "411DUPONT"
    assert received["X-Recouvrement-Level"] == "1"
    assert received["X-Recouvrement-Invoices"] == "F2026-0042"
    assert len(received.get_all("Message-ID")) == 1
    assert str(received["Subject"]) == rendered.subject
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n") == rendered.text
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert smtp_sink.envelopes[0].rcpt_tos == ("compta@dupont.example.fr",)
    assert len(mailbox.Maildir(smtp_sink.maildir, create=False)) == 1


@pytest.mark.parametrize("code, at, error", [
    (451, "data", TransientSendError),
    (550, "data", PermanentSendError),
    (452, "rcpt", TransientSendError),  # greylisting / full mailbox: try again tomorrow
    (550, "rcpt", PermanentSendError),
])
def test_reply_codes_map_to_transient_or_permanent(smtp_sink, code, at, error):
    smtp_sink.fail_next(code, at=at)
    with mailer(smtp_sink) as smtp:
        with pytest.raises(error, match=str(code)):
            smtp.send(reminder()[1])
        smtp.send(reminder(key="k2")[1])  # the same connection carries on
    assert len(smtp_sink.wait_for(1)) == 1
    assert smtp_sink.connections == 1


def test_several_sends_share_one_connection(smtp_sink):
    with mailer(smtp_sink) as smtp:
        for n in range(3):
            smtp.send(reminder(to=f"compta{n}@dupont.example.fr", key=f"k{n}")[1])
    assert len(smtp_sink.wait_for(3)) == 3
    assert smtp_sink.connections == 1
    assert smtp.connections == 1
    assert smtp_sink.quits == 1  # closed properly on exit


def test_reconnects_on_the_next_send_after_a_disconnect(smtp_sink):
    smtp_sink.fail_next(421, at="rcpt")  # "closing channel": the client hangs up
    with mailer(smtp_sink) as smtp:
        with pytest.raises(TransientSendError):
            smtp.send(reminder()[1])
        smtp.send(reminder(key="k2")[1])
    assert len(smtp_sink.wait_for(1)) == 1
    assert smtp_sink.connections == 2


def test_nobody_listening_is_transient():
    with SmtpMailer("127.0.0.1", free_port(), timeout=2.0) as smtp:
        with pytest.raises(TransientSendError):
            smtp.send(reminder()[1])


def test_silent_server_times_out_as_transient():
    with socket.socket() as silent:  # accepts connections (backlog), never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with SmtpMailer("127.0.0.1", silent.getsockname()[1], timeout=0.3) as smtp:
            with pytest.raises(TransientSendError, match="(?i)timed out"):
                smtp.send(reminder()[1])


def test_login_without_an_address_and_the_password_never_shown(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with SmtpSink(port=0, login=("relances", PASSWORD)) as sink:
        # A login without "@": yagmail alone would log in as relances@gmail.com.
        with SmtpMailer("127.0.0.1", sink.port, user="relances", password=PASSWORD,
                        timeout=5.0) as smtp:
            smtp.send(reminder()[1])
        assert sink.logins == ["relances"]
        assert len(sink.wait_for(1)) == 1

        wrong = "wr0ng-" + PASSWORD
        with SmtpMailer("127.0.0.1", sink.port, user="relances", password=wrong,
                        timeout=5.0) as smtp:
            # The relay's account, not the recipient: no letter instead (tests/security).
            with pytest.raises(RelayRefused, match="535") as refused:
                smtp.send(reminder(key="k2")[1])
        assert wrong not in str(refused.value) and wrong not in repr(smtp)
    assert PASSWORD not in caplog.text


def test_user_without_password_is_refused_before_any_connection():
    with pytest.raises(ValueError, match="password"):
        SmtpMailer("127.0.0.1", 25, user="relances")
