"""A run pays for what the day needs: a quiet rerun rewrites no debtor, a rerun for one
debtor writes about that debtor only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select, update

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, Debtor, Invoice, Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.services.litigation import escalate
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.scoring import score_ledger
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
POLICY = load_policy()


@pytest.fixture
def db(database_url, tmp_path):
    database = Database(database_url)
    write_customers(tmp_path, [customer(f"411Q{i:02d}") for i in range(6)])
    write_invoices(tmp_path, DAY, [invoice(f"F{i:02d}", f"411Q{i:02d}", date(2026, 10, 1 + i))
                                   for i in range(6)])
    with database.session() as session:
        ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
    yield database
    database.dispose()


@pytest.fixture
def debtor_writes(db):
    """The ids of the debtor rows each UPDATE statement sent to the database writes."""
    written: list[int] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE DEBTORS"):
            rows = parameters if executemany else [parameters]
            for row in rows:
                # the primary key is the WHERE clause's parameter: `id` on SQLite
                # (positional, last), `debtors_id` with psycopg's named parameters
                written.append(row.get("debtors_id", row.get("id")) if isinstance(row, dict)
                               else row[-1])

    event.listen(db.engine, "before_cursor_execute", listen)
    yield written
    event.remove(db.engine, "before_cursor_execute", listen)


def score(db, account=None):
    with db.session() as session:
        return score_ledger(session, today=DAY, actor="test", account=account)


def test_scoring_the_same_day_again_writes_no_debtor_row(db, debtor_writes):
    assert sum(score(db).values()) == 6
    assert len(debtor_writes) == 6
    debtor_writes.clear()
    assert sum(score(db).values()) == 6  # every debtor scored, as before
    assert debtor_writes == []


def test_scoring_writes_only_the_debtors_whose_score_changed(db, debtor_writes):
    score(db)
    debtor_writes.clear()
    with db.session() as session:  # one debtor paid half of what it owed
        changed = session.scalar(select(Debtor.id).where(Debtor.account == "411Q03"))
        session.execute(update(Invoice).where(Invoice.number == "F03")
                        .values(open_amount=Decimal("600.00")))
        before = session.scalar(select(Debtor.risk_factors).where(Debtor.id == changed))
    score(db)
    with db.session() as session:
        after = session.scalar(select(Debtor.risk_factors).where(Debtor.id == changed))
    assert before != after
    assert debtor_writes == [changed]


def test_a_rerun_for_one_debtor_writes_about_that_debtor_only(db, debtor_writes, sink):
    with db.session() as session:
        mark = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        target = session.scalar(select(Debtor.id).where(Debtor.account == "411Q02"))
    account = "411Q02"
    score(db, account)
    with db.session() as session:
        report = plan_reminders(session, today=DAY, policy=POLICY, creditor=CREDITOR,
                                actor="rerun", run_id="rerun", account=account)
    sent = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                       sender=CREDITOR.sender, actor="rerun", run_id="rerun", account=account,
                       pacing=Pacing(retries=0))
    with db.session() as session:
        escalate(session, today=DAY, policy=POLICY, actor="rerun", account=account)
        accounts = set(session.scalars(select(AuditEntry.account).where(AuditEntry.id > mark)))
        reminders = set(session.scalars(select(Reminder.debtor_id)))
    assert [p["account"] for p in report.planned] == [account]
    assert [s["account"] for s in sent.sent] == [account]
    assert [m["X-Recouvrement-Debtor"] for m in sink.messages] == [account]
    assert accounts == {account} and reminders == {target}
    assert set(debtor_writes) <= {target}
