"""The unit of work: commit on success, rollback on error, on SQL and in memory; the in-memory
repositories answer as the SQL ones do; the composition root builds each environment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recouvrement.adapters.audit import Event
from recouvrement.adapters.db.models import AuditEntry, Invoice, LitigationPayment, PaymentPlan
from recouvrement.domain.events import UnknownEventKind
from recouvrement.adapters.unit_of_work import InMemoryUnitOfWork, MemoryLedger, SqlUnitOfWork
from tests.services.ledger_fakes import (NOW, TODAY, SqlRows, debtor, dossier, invoice,
                                         reminder, task)
from tests.services.outbox_fakes import fresh_ledger


@pytest.fixture
def db(ledger_template, tmp_path):
    database = fresh_ledger(ledger_template, tmp_path)
    yield database
    database.dispose()


def _disputes(db) -> list[tuple[str, bool]]:
    with db.session() as session:
        return list(session.execute(select(Invoice.number, Invoice.disputed)
                                    .order_by(Invoice.number)).tuples())


def _audited(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def _seed(db):
    with db.session() as session:
        rows = SqlRows(session)
        invoice(rows, debtor(rows, "411DUPONT"), "F1")


# --- on the database ----------------------------------------------------------------------


def test_a_sql_unit_of_work_commits_when_the_block_ends(db):
    _seed(db)
    with SqlUnitOfWork(db) as uow:
        uow.invoices.by_number("F1").disputed = True
        uow.audit.record([Event("invoice.dispute_opened", "411DUPONT", "F1")], "t")
    assert _disputes(db) == [("F1", True)] and _audited(db) == 1


def test_a_sql_unit_of_work_rolls_back_on_an_error_but_keeps_what_was_committed(db):
    _seed(db)
    with pytest.raises(RuntimeError), SqlUnitOfWork(db) as uow:
        uow.audit.record([Event("invoice.dispute_opened", "411DUPONT", "F1")], "t")
        uow.commit()
        uow.invoices.by_number("F1").disputed = True
        uow.session.flush()
        raise RuntimeError("the command failed")
    assert _disputes(db) == [("F1", False)] and _audited(db) == 1


def test_a_sql_unit_of_work_is_entered_once(db):
    uow = SqlUnitOfWork(db)
    with uow, pytest.raises(RuntimeError, match="entered once"):
        uow.__enter__()


# --- in memory ------------------------------------------------------------------------------


def test_in_memory_a_rollback_puts_back_every_row_as_it_was_at_the_last_commit():
    ledger = MemoryLedger()
    f1 = invoice(ledger, debtor(ledger, "411DUPONT"), "F1")
    with pytest.raises(RuntimeError), InMemoryUnitOfWork(ledger) as uow:
        f1.dispute_reason = "kept"
        uow.audit.record([Event("invoice.dispute_opened", "411DUPONT", "F1")], "t")
        uow.commit()
        f1.disputed, f1.dispute_reason, f1.acknowledged_on = True, "lost", TODAY
        f1.status = "settled"
        uow.pauses.add_payment_plan(PaymentPlan(debtor_id=1, invoice_numbers=["F1"], status="active"))
        uow.audit.record([Event("invoice.dispute_closed", "411DUPONT", "F1")], "t")
        raise RuntimeError("the command failed")
    assert (f1.disputed, f1.dispute_reason, f1.acknowledged_on, f1.status) == (
        False, "kept", None, "open")
    assert ledger.plans == {} and [r.event.event for r in ledger.audit] == [
        "invoice.dispute_opened"]
    assert list(ledger.invoices.values()) == [f1]


def test_in_memory_the_log_takes_only_the_catalogues_kinds():
    with pytest.raises(UnknownEventKind), InMemoryUnitOfWork() as uow:
        uow.audit.record([Event("invoice.made_up")], "t")


# --- the same answers on both ---------------------------------------------------------------


def _world(rows) -> None:
    """The same rows, in the same order (so with the same ids), in either ledger."""
    dupont, twin = debtor(rows, "411DUPONT"), debtor(rows, "411Dupont")
    f1, f2 = invoice(rows, dupont, "F1"), invoice(rows, dupont, "F0")
    paid = invoice(rows, dupont, "F9", status="settled")
    invoice(rows, twin, "T1")
    reminder(rows, dupont, "ab12cd34" + "1" * 56, level=2, invoices=(f1,),
             deliveries={"email": "sent", "sms": "failed"})
    reminder(rows, dupont, "ab12cd34" + "2" * 56, level=3, status="failed", invoices=(f2,))
    reminder(rows, dupont, "ab12cd35" + "3" * 56, level=4, invoices=(paid,),
             deliveries={"email": "needs_attention"})
    task(rows, dupont, due=TODAY - timedelta(days=1), status="carried")
    task(rows, dupont, due=TODAY + timedelta(days=1))
    task(rows, dupont, status="done")
    task(rows, twin)
    rows.add(PaymentPlan(debtor_id=dupont.id, invoice_numbers=["F1"], total=Decimal("10"),
                         instalments=[], grace_days=5, status="broken", created_at=NOW,
                         created_by="t"))
    rows.add(PaymentPlan(debtor_id=dupont.id, invoice_numbers=["F1"], total=Decimal("10"),
                         instalments=[], grace_days=5, status="active", created_at=NOW,
                         created_by="t"))
    dossier(rows, dupont, "5678abcd-1")
    dossier(rows, dupont, "5678abcd-2")
    dossier(rows, dupont, "56%8abcd-3")
    for amount in ("100.00", "50.50"):
        rows.add(LitigationPayment(dossier_id="5678abcd-1", invoice_number="F1",
                                   received_on=TODAY, amount=Decimal(amount), recorded_at=NOW))


def _answers(uow) -> dict:
    dupont = uow.debtors.by_account("411DUPONT")
    plan = uow.pauses.active_plan(dupont.id)
    return {
        "debtor": (dupont.id, uow.debtors.by_account("411dupont"), uow.debtors.get(2).account),
        "twins": (uow.debtors.case_twins("411DUPONT"), uow.debtors.case_twins("411dupont")),
        "invoices": ([i.number for i in uow.invoices.of_debtor(dupont.id)],
                     uow.invoices.by_number("T1").debtor_id, uow.invoices.by_number("X")),
        "prefix": ([r.id for r in uow.reminders.with_key_prefix("ab12cd34")],
                   [r.id for r in uow.reminders.with_key_prefix("ab12cd3")],
                   uow.reminders.with_key_prefix("ab12cd3_")),
        "deliveries": [(d.channel, d.status) for d in uow.reminders.deliveries(1)],
        "level": (uow.reminders.highest_level_sent(dupont.id),
                  uow.reminders.highest_level_sent(2)),
        "tasks": [t.id for t in uow.call_tasks.to_work(dupont.id, TODAY)],
        "plan": (plan.status, plan.id),
        "dossiers": (sorted(d.id for d in uow.dossiers.starting_with("5678abcd", limit=5)),
                     len(uow.dossiers.starting_with("5678abcd", limit=1)),
                     [d.id for d in uow.dossiers.starting_with("56%8", limit=5)],
                     uow.dossiers.starting_with("56_8", limit=5),
                     uow.dossiers.get("5678abcd-2").status, uow.dossiers.get("nope")),
        "paid": (uow.dossiers.paid("5678abcd-1"), uow.dossiers.paid("5678abcd-2")),
    }


def test_the_in_memory_repositories_answer_as_the_sql_ones(db):
    with db.session() as session:
        _world(SqlRows(session))
    with SqlUnitOfWork(db) as uow:
        on_sql = _answers(uow)
    ledger = MemoryLedger()
    _world(ledger)
    with InMemoryUnitOfWork(ledger) as uow:
        in_memory = _answers(uow)
    assert in_memory == on_sql
    assert on_sql["level"] == (2, 0) and on_sql["tasks"] == [1] and on_sql["paid"] == (
        Decimal("150.50"), Decimal(0))
    assert on_sql["dossiers"][2:4] == (["56%8abcd-3"], [])  # a prefix is literal


def test_the_outbox_puts_back_the_same_deliveries_on_both(db):
    with db.session() as session:
        _world(SqlRows(session))
    ledger = MemoryLedger()
    _world(ledger)
    seen = []
    for make in (lambda: SqlUnitOfWork(db), lambda: InMemoryUnitOfWork(ledger)):
        with make() as uow:
            uow.reminders.put_back(1, ("failed", "needs_attention"), "planned")
        with make() as uow:
            seen.append([(d.channel, d.status, d.attempts, d.claimed_by)
                         for d in uow.reminders.deliveries(1)])
    assert seen[0] == seen[1] == [("email", "sent", 3, "run-1"), ("sms", "planned", 0, None)]


# --- the composition root -------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from recouvrement.config.settings import Settings

    for name in ("RECOUVREMENT_ENVIRONMENT", "RECOUVREMENT_DATABASE_URL",
                 "RECOUVREMENT_SMTP_HOST", "RECOUVREMENT_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no recouvrement.toml but ours
    return lambda **kw: Settings(home=tmp_path / "home", **kw)


def test_the_test_environment_is_fakes_over_one_ledger_in_memory(settings):
    from recouvrement.bootstrap import build
    from recouvrement.adapters.channels.sms_providers import FakeSmsProvider
    from recouvrement.adapters.mail.mailer import FakeMailer
    from recouvrement.adapters.pdf import FakePdfRenderer

    resources = build(settings(), "test")
    with resources.unit_of_work() as uow:
        uow.audit.record([Event("invoice.dispute_opened", "411A", "F1")], "t")
    with resources.unit_of_work() as uow:
        assert isinstance(uow, InMemoryUnitOfWork)
        assert len(uow.ledger.audit) == 1  # the same ledger, unit after unit
    assert resources.mailer() is resources.mailer() and isinstance(resources.mailer(), FakeMailer)
    assert isinstance(resources.sms_provider, FakeSmsProvider)
    assert isinstance(resources.pdf_renderer, FakePdfRenderer)
    assert [c.name for c in resources.channels()] == ["phone", "sms"]
    assert resources.channels()[1].provider is resources.sms_provider


def test_local_is_the_settings_database_and_relay(settings):
    from recouvrement.bootstrap import build
    from recouvrement.adapters.mail.mailer import SmtpMailer

    resources = build(settings(smtp_host="relay.example.com", smtp_port=587))
    assert resources.environment == "local"
    mailer = resources.mailer()
    assert isinstance(mailer, SmtpMailer) and (mailer.host, mailer.port) == (
        "relay.example.com", 587)
    assert resources.sms_provider is None  # RECOUVREMENT_SMS_PROVIDER=none
    uow = resources.unit_of_work()
    assert isinstance(uow, SqlUnitOfWork)
    assert uow.db.url == f"sqlite:///{resources.settings.home / 'recouvrement.db'}"
    resources.database().dispose()


def test_production_refuses_the_embedded_defaults(settings, monkeypatch):
    from recouvrement.bootstrap import ConfigurationError, build

    monkeypatch.setenv("RECOUVREMENT_ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError) as refused:
        build(settings())
    assert "SQLite" in str(refused.value) and "local sink" in str(refused.value)
    with pytest.raises(ConfigurationError, match="local sink"):
        build(settings(database_url="postgresql+psycopg://u@db.internal/recouvrement"))
    built = build(settings(database_url="postgresql+psycopg://u@db.internal/recouvrement",
                           smtp_host="localhost", smtp_port=25))
    assert built.environment == "production"  # a relay on this machine is a relay


def test_an_unknown_environment_is_refused_by_the_settings(settings, monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("RECOUVREMENT_ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="environment"):
        settings()

