"""Shards of a daily run, side by side and beside a rerun: each reminder exactly once."""

from __future__ import annotations

from collections import Counter
from functools import partial
from datetime import date

import pytest
from sqlalchemy import select

from recouvrement.adapters.audit import verify
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Debtor, Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.ledger import debtor_ids_with_open_invoices
from recouvrement.services.litigation import escalate
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.scoring import score_ledger
from recouvrement.services.sending import Pacing, send_outbox
from recouvrement.adapters.shards import Shard
from tests.conftest import BACKENDS
from tests.factories import at_once, customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)
DEBTORS = 20
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
POLICY = load_policy()


@pytest.fixture
def db(database_url, tmp_path):
    database = Database(database_url)
    write_customers(tmp_path, [customer(f"411S{i:02d}") for i in range(DEBTORS)])
    write_invoices(tmp_path, DAY, [invoice(f"F{i:02d}", f"411S{i:02d}", date(2026, 10, 1),
                                           f"{100 + i}.00") for i in range(DEBTORS)])
    with database.session() as session:
        ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
    yield database
    database.dispose()


def steps(db, sink, run_id, *, account=None, shard=None):
    """What a shard, or a rerun for one account, does after the ingest."""
    with db.session() as session:
        score_ledger(session, today=DAY, actor=run_id, account=account, shard=shard)
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=POLICY, creditor=CREDITOR, actor=run_id,
                       run_id=run_id, account=account, shard=shard)
    send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                sender=CREDITOR.sender, actor=run_id, run_id=run_id, account=account,
                shard=shard, pacing=Pacing(retries=0))
    with db.session() as session:
        escalate(session, today=DAY, policy=POLICY, actor=run_id, account=account, shard=shard)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_debtor_is_in_exactly_one_shard(db, count):
    with db.session() as session:
        everyone = debtor_ids_with_open_invoices(session)
        shards = [debtor_ids_with_open_invoices(session, shard=Shard(i, count))
                  for i in range(count)]
    assert len(everyone) == DEBTORS
    assert sorted(i for shard in shards for i in shard) == everyone
    if count > 1:
        assert all(shards), "with 20 debtors every shard has some"


def test_a_shard_scores_and_decides_only_its_own_debtors(db, sink):
    steps(db, sink, "shard-1", shard=Shard(0, 2))
    with db.session() as session:
        debtors = session.execute(select(Debtor.id, Debtor.account, Debtor.risk_class)).all()
        reminded = set(session.scalars(select(Reminder.debtor_id)))
    mine = {d.id for d in debtors if d.id % 2 == 0}
    assert reminded == mine
    assert {d.id for d in debtors if d.risk_class is not None} == mine
    assert sorted(m["X-Recouvrement-Debtor"] for m in sink.messages) == sorted(
        d.account for d in debtors if d.id in mine)


def test_shards_and_a_rerun_at_once_send_each_reminder_exactly_once(db, sink):
    runs = [{"run_id": f"shard-{i}", "shard": Shard(i, 3)} for i in range(3)]
    runs.append({"run_id": "rerun", "account": "411S05"})
    at_once(*(partial(steps, db, sink, **kwargs) for kwargs in runs))
    received = Counter(m["X-Recouvrement-Debtor"] for m in sink.messages)
    assert received == {f"411S{i:02d}": 1 for i in range(DEBTORS)}
    with db.session() as session:
        assert {r.status for r in session.scalars(select(Reminder))} == {"sent"}
        assert verify(session) == []
