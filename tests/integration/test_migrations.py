"""The newest migration goes down and up again on a ledger that holds reminders."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import inspect, select

from recouvrement.adapters.db import Database, alembic_config
from recouvrement.adapters.db.models import Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

DAY = date(2026, 11, 2)


def alembic(db, action, revision):
    with db.engine.begin() as connection:
        action(alembic_config(connection), revision)


def test_the_wire_form_column_goes_and_comes_back_with_the_reminders_kept(database_url, tmp_path):
    db = Database(database_url)
    write_customers(tmp_path, [customer("411M01")])
    write_invoices(tmp_path, DAY, [invoice("M-1", "411M01", date(2026, 10, 1))])
    with db.session() as session:
        ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=load_policy(), actor="test", run_id="run",
                       creditor=Creditor(name="Exemple SAS", sender="relances@exemple.example.com"))

    alembic(db, command.downgrade, "0005_merge")
    assert "mime" not in {c["name"] for c in inspect(db.engine).get_columns("reminders")}
    alembic(db, command.upgrade, "heads")
    with db.session() as session:
        keys, wires = zip(*session.execute(select(Reminder.key, Reminder.mime)).all())
    assert len(keys) == 1 and wires == (None,)  # planned again it would be built when sent
    db.dispose()
