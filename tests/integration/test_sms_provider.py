"""The SMS providers' clients against a real HTTP server on loopback that plays the provider."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from recouvrement.adapters.channels.sms import SmsChannel
from recouvrement.adapters.channels.sms_providers import Brevo, Ovh, ProviderRefused
from recouvrement.adapters.channels.sms_sink import SmsSink
from recouvrement.adapters.db.models import ReminderDelivery
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.mail.mailer import FakeMailer, PermanentSendError, TransientSendError
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.factories import at_once
from tests.services.outbox_fakes import add_debtor, at

DAY = date(2026, 11, 2)


@pytest.fixture
def sink():
    with SmsSink(api_key="secret-key") as server:
        yield server


def brevo(sink, timeout=2.0, key="secret-key"):
    return Brevo(api_key=key, sender="EXEMPLE", url=sink.url, timeout=timeout)


def test_brevo_takes_the_sms_and_its_message_id_is_the_proof(sink):
    message_id = brevo(sink).send(to="+33612345678", text="Exemple SAS: 1 facture impayée",
                                  reference="rec-0123456789abcdef")
    [got] = sink.received
    assert message_id == str(got["messageId"])
    assert (got["recipient"], got["sender"], got["type"], got["tag"]) == (
        "33612345678", "EXEMPLE", "transactional", "rec-0123456789abcdef")
    assert got["content"] == "Exemple SAS: 1 facture impayée" and got["unicodeEnabled"] is False


@pytest.mark.parametrize("status, error", [(400, PermanentSendError), (404, PermanentSendError),
                                           (500, PermanentSendError), (502, PermanentSendError),
                                           (503, TransientSendError),
                                           (429, TransientSendError)])
def test_a_refusal_is_sorted_into_for_good_and_for_now(sink, status, error):
    sink.answer_next(status)
    with pytest.raises(error, match=str(status)):
        brevo(sink).send(to="+33612345678", text="x", reference="rec-1")
    assert sink.received == []


def test_a_provider_that_does_not_answer_in_time_may_have_taken_it_a_person_checks(sink):
    # No idempotency key: retrying by itself could text the debtor twice.
    sink.answer_next(201, delay=1.5)
    with pytest.raises(PermanentSendError, match="did not answer.*may have taken"):
        brevo(sink, timeout=0.3).send(to="+33612345678", text="x", reference="rec-1")


def test_a_wrong_key_is_the_account_refused_not_the_number(sink):
    with pytest.raises(ProviderRefused, match="401"):
        brevo(sink, key="wrong").send(to="+33612345678", text="x", reference="rec-1")


class _OvhPlayer(BaseHTTPRequestHandler):
    """OVHcloud's SMS jobs endpoint: checks the signature, answers a job id."""

    secret, consumer = "app-secret", "consumer-key"
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        url = f"http://{self.headers['Host']}{self.path}"
        expected = "$1$" + hashlib.sha1("+".join([
            self.secret, self.consumer, "POST", url, body,
            self.headers["X-Ovh-Timestamp"]]).encode()).hexdigest()
        ok = (self.headers["X-Ovh-Signature"] == expected
              and self.headers["X-Ovh-Application"] == "app-key")
        job = json.loads(body)
        _OvhPlayer.bodies.append(job)
        invalid = [r for r in job["receivers"] if not r.startswith("+336")]
        answer = ({"ids": [4242], "invalidReceivers": invalid, "validReceivers": []} if ok
                  else {"message": "Invalid signature"})
        data = json.dumps(answer).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def ovh():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OvhPlayer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/1.0"
    server.shutdown()
    server.server_close()


def test_ovh_signs_its_call_and_an_invalid_receiver_is_refused_for_good(ovh):
    client = Ovh(application_key="app-key", application_secret="app-secret",
                 consumer_key="consumer-key", service="sms-ab12345-1", sender="EXEMPLE",
                 url=ovh)
    assert client.send(to="+33612345678", text="Exemple SAS: relance", reference="rec-1") == "4242"
    assert _OvhPlayer.bodies[-1]["noStopClause"] is True
    assert _OvhPlayer.bodies[-1]["coding"] == "7bit"
    with pytest.raises(PermanentSendError, match="invalid"):
        client.send(to="+33142685300", text="x", reference="rec-2")
    wrong = Ovh(application_key="app-key", application_secret="not-it",
                consumer_key="consumer-key", service="sms-ab12345-1", sender="EXEMPLE", url=ovh)
    with pytest.raises(ProviderRefused):
        wrong.send(to="+33612345678", text="x", reference="rec-3")


POLICY = """
name: sms
levels:
  - {level: 1, offset_days: 0, relative_to: due_date, channels: [email, sms], kind: reminder,
     template: level1}
  - {level: 3, offset_days: 8, relative_to: previous_level, channels: [email, letter],
     kind: formal_notice, registered: true, template: level3}
"""


def test_the_outbox_texts_once_through_the_provider_on_loopback(tmp_path, sink):
    from recouvrement.adapters.db import Database

    (tmp_path / "p.yaml").write_text(POLICY, encoding="utf-8")
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    creditor = Creditor(name="Exemple SAS", sender="relances@exemple.example.com",
                        iban="FR76 3000 6000 0112 3456 7890 189")
    try:
        add_debtor(db, "411CONSO", kind="B2C", due=date(2026, 10, 20), amount="89.90")
        with db.session() as session:
            plan_reminders(session, today=DAY, policy=load_policy(tmp_path / "p.yaml"),
                           creditor=creditor, actor="t", run_id="r")
        channel = SmsChannel(brevo(sink))
        sink.answer_next(503)  # the first try: the provider is down, took nothing
        for _ in range(3):
            send_outbox(db, FakeMailer, today=DAY, sender=creditor.sender, actor="t",
                        run_id="r", pacing=Pacing(retries=0), channels=[channel],
                        now=at(DAY, 10))
        [got] = sink.received
        assert got["recipient"] == "33612345678" and "STOP" in got["content"]
        assert "89,90 €" in got["content"] and len(got["content"]) <= 160
        with db.session() as session:
            delivery = session.scalars(select(ReminderDelivery)
                                       .where(ReminderDelivery.channel == "sms")).one()
            assert (delivery.status, delivery.attempts) == ("sent", 2)
            assert delivery.proof == f"brevo:{got['messageId']}"
    finally:
        db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_two_runs_at_once_text_each_debtor_exactly_once(database_url, tmp_path, sink):
    from recouvrement.adapters.db import Database

    (tmp_path / "p.yaml").write_text(POLICY, encoding="utf-8")
    policy = load_policy(tmp_path / "p.yaml")
    db = Database(database_url)
    creditor = Creditor(name="Exemple SAS", sender="relances@exemple.example.com",
                        iban="FR76 3000 6000 0112 3456 7890 189")
    accounts = [f"411M{i:02d}" for i in range(10)]
    try:
        for i, account in enumerate(accounts):
            add_debtor(db, account, phone=f"06 12 34 56 {i:02d}", due=date(2026, 10, 20),
                       email=f"{account.lower()}@exemple.example.com")

        def run(run_id):
            with db.session() as session:
                plan_reminders(session, today=DAY, policy=policy, creditor=creditor, actor="t",
                               run_id=run_id)
            send_outbox(db, FakeMailer, today=DAY, sender=creditor.sender, actor="t",
                        run_id=run_id, pacing=Pacing(retries=0),
                        channels=[SmsChannel(brevo(sink))], now=at(DAY, 10))

        at_once(lambda: run("run-1"), lambda: run("run-2"), timeout=120)
        assert sorted(r["recipient"] for r in sink.received) == sorted(
            f"336123456{i:02d}" for i in range(10))
    finally:
        db.dispose()
