"""Migration 0017 on a ledger holding reminders of before it: their content goes into their
deliveries' payloads, the reminders' columns for it go, and down again they come back."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from recouvrement.adapters.db import Database, alembic_config
from recouvrement.adapters.db.models import Debtor, Reminder, ReminderDelivery
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.mail.mailer import FakeMailer, Wire
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.services.outbox_fakes import add_debtor


DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@exemple.example.com")
CONTENT = ("channel", "recipient", "subject", "body_text", "body_html", "mime", "letter_html",
           "letter_file")


class WireMailer(FakeMailer):
    """A fake relay that keeps the bytes of what it was handed in wire form."""

    wires: list[bytes] = []

    def send(self, message):
        if isinstance(message, Wire):
            WireMailer.wires.append(message.data)
        super().send(message)


def alembic(db, action, revision):
    with db.engine.begin() as connection:
        action(alembic_config(connection), revision)


def payloads(db) -> dict[tuple[str, str], dict | None]:
    with db.session() as session:
        return {(account, channel): payload for account, channel, payload in session.execute(
            select(Debtor.account, ReminderDelivery.channel, ReminderDelivery.payload)
            .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
            .join(Debtor, Debtor.id == Reminder.debtor_id))}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_old_reminders_content_moves_into_their_deliveries_and_comes_back(database_url):
    moves_and_comes_back(database_url)


@pytest.mark.parametrize("database_url", [BACKENDS[1]], indirect=True)
def test_a_creditors_ledger_in_its_schema_is_migrated_like_any_other(database_url):
    """Agency mode: each creditor's ledger is a schema of the agency's database."""
    moves_and_comes_back(database_url + "?options=-csearch_path%3Dcreditor_essai")
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert not conn.scalar(text(  # nothing of it outside its schema
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_name = 'reminders'"))
            assert not set(CONTENT) & set(conn.scalars(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'creditor_essai' AND table_name = 'reminders'")))
    finally:
        engine.dispose()


def moves_and_comes_back(database_url):
    db = Database(database_url)
    try:
        for account in ("411MAIL", "411SENT", "411HAND"):
            add_debtor(db, account, email=f"{account[3:].lower()}@exemple.example.com",
                       due=date(2026, 10, 20))
        with db.session() as session:
            plan_reminders(session, today=DAY, policy=load_policy(), creditor=CREDITOR,
                           actor="t", run_id="r")
        send_outbox(db, FakeMailer, today=DAY, sender=CREDITOR.sender, actor="t", run_id="r",
                    pacing=Pacing(retries=0), account="411SENT")
        planned = payloads(db)
        wire = planned[("411MAIL", "email")]["wire"]
        assert wire.startswith("From: relances@exemple.example.com\r\n")

        # Down: the columns come back with what the payloads held; the payloads empty.
        alembic(db, command.downgrade, "0016_agency_money")
        assert set(CONTENT) <= {c["name"] for c in inspect(db.engine).get_columns("reminders")}
        with db.engine.begin() as connection:
            old = {r.account: r for r in connection.execute(text(
                "SELECT d.account, r.* FROM reminders r JOIN debtors d ON d.id = r.debtor_id"))}
            assert bytes(old["411MAIL"].mime) == wire.encode("ascii")
            assert (old["411MAIL"].recipient, old["411MAIL"].subject, old["411MAIL"].body_html) == (
                "mail@exemple.example.com", planned[("411MAIL", "email")]["subject"],
                planned[("411MAIL", "email")]["body_html"])
            assert old["411MAIL"].letter_html == planned[("411MAIL", "email")]["letter_html"]
            assert old["411SENT"].channel == "email"
            assert set(connection.scalars(text(
                "SELECT payload FROM reminder_deliveries WHERE channel = 'email'"))) <= {None,
                                                                                         "null"}
            # Rows as the outbox wrote them before: a letter that went in place of the e-mail,
            # and a reminder with no delivery at all (written by hand), with a phone task.
            connection.execute(text(
                "UPDATE reminders SET channel = 'email,letter', letter_file = '/q/411SENT.pdf', "
                "letter_html = '<p>Lettre 411SENT</p>' WHERE id = :id"),
                {"id": old["411SENT"].id})
            connection.execute(text(
                "INSERT INTO reminder_deliveries (reminder_id, channel, status, attempts, proof) "
                "VALUES (:id, 'letter', 'sent', 1, '/q/411SENT.pdf')"), {"id": old["411SENT"].id})
            connection.execute(text("DELETE FROM reminder_deliveries WHERE reminder_id = :id"),
                               {"id": old["411HAND"].id})
            connection.execute(text(
                "UPDATE reminders SET channel = 'email,phone', subject = 'Relance à la main', "
                "body_text = 'Texte', body_html = '<p>Texte</p>', mime = NULL WHERE id = :id"),
                {"id": old["411HAND"].id})
            connection.execute(text(
                "INSERT INTO call_tasks (debtor_id, reminder_id, level, created_on, due_on, status)"
                " SELECT debtor_id, id, level, planned_on, planned_on, 'open' FROM reminders"
                " WHERE id = :id"), {"id": old["411HAND"].id})

        # Up: into the payloads, and the columns gone.
        alembic(db, command.upgrade, "heads")
        assert not set(CONTENT) & {c["name"] for c in inspect(db.engine).get_columns("reminders")}
        got = payloads(db)
        assert got[("411MAIL", "email")] == planned[("411MAIL", "email")]
        assert got[("411SENT", "letter")] == {"letter_html": "<p>Lettre 411SENT</p>",
                                              "subject": old["411SENT"].subject,
                                              "body_text": old["411SENT"].body_text}
        assert "letter_html" not in got[("411SENT", "email")]  # it has a letter of its own
        assert got[("411HAND", "email")] == {
            "recipient": "hand@exemple.example.com", "subject": "Relance à la main",
            "body_text": "Texte", "body_html": "<p>Texte</p>", "wire": None,
            "letter_html": old["411HAND"].letter_html}
        assert got[("411HAND", "phone")] is None
        with db.session() as session:
            hand = {d.channel: d for d in session.scalars(select(ReminderDelivery).join(
                Reminder, Reminder.id == ReminderDelivery.reminder_id)
                .where(Reminder.id == old["411HAND"].id))}
        assert (hand["email"].status, hand["phone"].status) == ("planned", "sent")

        # The planned e-mail goes out as the old row had it on the wire, the Date put first.
        WireMailer.wires = []
        report = send_outbox(db, WireMailer, today=DAY, sender=CREDITOR.sender, actor="t",
                             run_id="r2", pacing=Pacing(retries=0), account="411MAIL")
        assert len(report.sent) == 1
        [sent] = WireMailer.wires
        assert sent.startswith(b"Date: ") and sent.split(b"\r\n", 1)[1] == bytes(
            old["411MAIL"].mime)
    finally:
        db.dispose()
