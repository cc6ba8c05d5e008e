"""Migration 0014 on a ledger holding reminders of before it: one delivery per channel."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from recouvrement.adapters.db import Database, alembic_config
from recouvrement.adapters.db.models import Reminder, ReminderDelivery
from recouvrement.domain.policy import load_policy
from recouvrement.adapters.mail.mailer import FakeMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.services.outbox_fakes import add_debtor

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@exemple.example.com")


def alembic(db, action, revision):
    with db.engine.begin() as connection:
        action(alembic_config(connection), revision)


def test_old_reminders_get_one_delivery_per_channel_in_their_state(database_url):
    db = Database(database_url)
    try:
        for account in ("411SENT", "411STUCK", "411CALL"):
            add_debtor(db, account, email=f"{account[3:].lower()}@exemple.example.com",
                       due=date(2026, 10, 20))
        with db.session() as session:
            plan_reminders(session, today=DAY, policy=load_policy(), creditor=CREDITOR,
                           actor="t", run_id="r")
        send_outbox(db, FakeMailer, today=DAY, sender=CREDITOR.sender, actor="t", run_id="r",
                    pacing=Pacing(retries=0), account="411SENT")

        alembic(db, command.downgrade, "0013_call_tasks")
        assert not inspect(db.engine).has_table("reminder_deliveries")
        with db.engine.begin() as connection:  # rows as the old outbox left them
            ids = dict(connection.execute(text(
                "SELECT d.account, r.id FROM reminders r JOIN debtors d ON d.id = r.debtor_id"))
                .all())
            connection.execute(text("UPDATE reminders SET status = 'given_up', attempts = 5, "
                                    "channel = 'email,letter', last_error = 'refused' "
                                    "WHERE id = :id"), {"id": ids["411STUCK"]})
            connection.execute(text("UPDATE reminders SET channel = 'email,phone' WHERE id = :id"),
                               {"id": ids["411CALL"]})
            connection.execute(text(
                "INSERT INTO call_tasks (debtor_id, reminder_id, level, created_on, due_on, status)"
                " SELECT debtor_id, id, level, planned_on, planned_on, 'open' FROM reminders"
                " WHERE id = :id"), {"id": ids["411CALL"]})
        alembic(db, command.upgrade, "heads")

        with db.session() as session:
            reminders = {r.id: r for r in session.scalars(select(Reminder))}
            got = {(d.reminder_id, d.channel): d for d in session.scalars(select(ReminderDelivery))}
        sent = got[(ids["411SENT"], "email")]
        assert (sent.status, sent.proof) == ("sent", reminders[ids["411SENT"]].message_id)
        assert reminders[ids["411STUCK"]].status == "needs_attention"
        assert {c: d.status for (r, c), d in got.items() if r == ids["411STUCK"]} == {
            "email": "needs_attention", "letter": "needs_attention"}
        assert got[(ids["411STUCK"], "letter")].last_error == "refused"
        call = got[(ids["411CALL"], "phone")]
        assert call.status == "sent" and call.proof.startswith("call:")
        assert got[(ids["411CALL"], "email")].status == "planned"
        assert len(got) == 5
    finally:
        db.dispose()
