"""The commands that change the ledger, every branch, on an in-memory unit of work: disputes,
acknowledgements, promises, payment plans, a logged call, a reminder put back in the outbox,
a dossier handed over and closed. Milliseconds each; the SQL is proved in tests/integration."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from recouvrement.services.calls import CallError, log_call
from recouvrement.domain.dossier import TransitionError
from recouvrement.services.lifecycle import DossierNotFound, close_dossier, hand_over, locate_dossier
from recouvrement.services.outbox import OutboxError, retry
from recouvrement.services.debtor_actions import acknowledge, add_payment_plan, add_promise, set_dispute
from recouvrement.adapters.unit_of_work import MemoryLedger
from tests.services.ledger_fakes import (NOW, TODAY, clock, debtor, dossier, events, invoice,
                                         reminder, task, unit)


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


# --- disputes -------------------------------------------------------------------------------


def test_a_dispute_opens_on_an_open_invoice_and_closes_once(ledger):
    dupont = debtor(ledger, "411DUPONT")
    f1 = invoice(ledger, dupont, "F1")
    with unit(ledger) as uow:
        assert set_dispute(uow, "F1", reason="goods damaged") is None
        assert set_dispute(uow, "F1", reason="again") == "F1 is already disputed"
    assert (f1.disputed, f1.dispute_reason) == (True, "goods damaged")
    with unit(ledger) as uow:
        assert set_dispute(uow, "F1", reason=None) is None
        assert set_dispute(uow, "F1", reason=None) == "F1 is not disputed"
    assert (f1.disputed, f1.dispute_reason) == (False, None)
    assert events(ledger) == [("invoice.dispute_opened", "411DUPONT", "F1"),
                              ("invoice.dispute_closed", "411DUPONT", "F1")]


def test_nothing_to_dispute_on_an_unknown_a_settled_or_a_credit_invoice(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "S1", status="settled", settled_on=date(2026, 10, 3))
    invoice(ledger, dupont, "S2", status="settled")
    invoice(ledger, dupont, "A1", status="credit")
    with unit(ledger) as uow:
        assert set_dispute(uow, "NOPE", reason="x") == "no invoice 'NOPE' in the ledger"
        assert set_dispute(uow, "S1", reason="x").startswith("S1 is settled (on 2026-10-03)")
        assert set_dispute(uow, "S2", reason="x").startswith("S2 is settled: there is nothing")
        assert set_dispute(uow, "A1", reason="x").startswith("A1 is a credit, not a debt")
    assert ledger.audit == []


# --- acknowledgements -----------------------------------------------------------------------


def test_an_acknowledgement_restarts_limitation_and_never_moves_it_back(ledger):
    dupont = debtor(ledger, "411DUPONT")
    f1 = invoice(ledger, dupont, "F1")
    with unit(ledger) as uow:
        assert acknowledge(uow, "F1", date(2026, 10, 20), today=TODAY) is None
        assert acknowledge(uow, "F1", date(2026, 10, 5), today=TODAY) is None
    assert f1.acknowledged_on == date(2026, 10, 20)  # the later one stands
    assert [e[0] for e in events(ledger)] == ["invoice.debt_acknowledged"] * 2


def test_an_acknowledgement_refused_in_the_future_before_issue_or_on_no_debt(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1")
    invoice(ledger, dupont, "S1", status="settled")
    with unit(ledger) as uow:
        assert "cannot be dated later than today" in acknowledge(
            uow, "F1", TODAY + timedelta(days=1), today=TODAY)
        assert acknowledge(uow, "F1", date(2026, 8, 31), today=TODAY) == (
            "F1 was issued on 2026-09-01, after 2026-08-31")
        assert "no debt left to acknowledge" in acknowledge(uow, "S1", TODAY, today=TODAY)
        assert acknowledge(uow, "X", TODAY, today=TODAY) == "no invoice 'X' in the ledger"
    assert ledger.audit == []


# --- promises and plans ---------------------------------------------------------------------


def test_a_promise_is_recorded_at_the_clocks_time(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1")
    with unit(ledger) as uow:
        assert add_promise(uow, "411DUPONT", date(2026, 11, 20), today=TODAY,
                           clock=clock) is None
    [promise] = ledger.promises.values()
    assert (promise.debtor_id, promise.until, promise.created_at) == (
        dupont.id, date(2026, 11, 20), NOW)
    assert events(ledger) == [("promise.recorded", "411DUPONT", None)]


def test_no_promise_from_a_stranger_in_the_past_or_from_who_owes_nothing(ledger):
    dupont = debtor(ledger, "411DUPONT")
    debtor(ledger, "411Martin")
    invoice(ledger, dupont, "S1", status="settled")
    invoice(ledger, dupont, "Z1", open_amount="0.00")
    with unit(ledger) as uow:
        assert add_promise(uow, "411MARTIN", TODAY, today=TODAY) == (
            "no debtor '411MARTIN' in the ledger; did you mean 411Martin? (accounts are "
            "matched exactly, case included)")
        assert add_promise(uow, "411DUPONT", TODAY - timedelta(days=1), today=TODAY) == (
            "the promised date 2026-11-01 is already past")
        assert "owes nothing" in add_promise(uow, "411DUPONT", TODAY, today=TODAY)
    assert ledger.promises == {} and ledger.audit == []


def test_a_plan_covers_the_open_invoices_outside_litigation(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1", amount="300.00")
    invoice(ledger, dupont, "F2", amount="700.00", open_amount="400.01")
    invoice(ledger, dupont, "L1", amount="900.00", dossier_id="d-1")
    invoice(ledger, dupont, "S1", status="settled")
    with unit(ledger) as uow:
        problem, schedule = add_payment_plan(uow, "411DUPONT", instalments=3, first=date(2026, 11, 10),
                                     every_days=30, grace_days=5, clock=clock)
    assert problem is None
    assert [(i.due, i.amount) for i in schedule] == [
        (date(2026, 11, 10), Decimal("233.33")), (date(2026, 12, 10), Decimal("233.33")),
        (date(2027, 1, 9), Decimal("233.35"))]
    [plan] = ledger.plans.values()
    assert (plan.invoice_numbers, plan.total, plan.status, plan.created_at) == (
        ["F1", "F2"], Decimal("700.01"), "active", NOW)
    assert events(ledger) == [("plan.agreed", "411DUPONT", f"plan:{plan.id}")]
    with unit(ledger) as uow:
        assert add_payment_plan(uow, "411DUPONT", instalments=2, first=TODAY, every_days=30,
                        grace_days=5) == ("411DUPONT already has an active payment plan", [])


def test_no_plan_for_a_stranger_or_over_nothing(ledger):
    debtor(ledger, "411VIDE")
    with unit(ledger) as uow:
        assert add_payment_plan(uow, "411NOBODY", instalments=2, first=TODAY, every_days=30,
                        grace_days=5)[0] == "no debtor '411NOBODY' in the ledger"
        assert add_payment_plan(uow, "411VIDE", instalments=2, first=TODAY, every_days=30,
                        grace_days=5) == ("411VIDE: nothing is owed: no payment plan to make",
                                          [])
    assert ledger.plans == {} and ledger.audit == []


# --- a logged call ---------------------------------------------------------------------------


def test_a_call_works_the_debtors_tasks_due_and_leaves_the_later_ones(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1")
    carried = task(ledger, dupont, due=TODAY - timedelta(days=2), status="carried")
    today = task(ledger, dupont)
    later = task(ledger, dupont, due=TODAY + timedelta(days=1))
    done = task(ledger, dupont, due=TODAY - timedelta(days=9), status="done")
    with unit(ledger) as uow:
        logged = log_call(uow, "411DUPONT", "no-answer", today=TODAY, note="rang", clock=clock)
    assert logged == {"account": "411DUPONT", "outcome": "no-answer", "had_task": True,
                      "tasks": [carried.id, today.id], "invoices": [], "until": None}
    for t in (carried, today):
        assert (t.status, t.outcome, t.note, t.worked_at, t.worked_on) == (
            "done", "no-answer", "rang", NOW, TODAY)
    assert (later.status, done.outcome) == ("open", None)
    [entry] = ledger.audit
    assert (entry.event.event, entry.event.subject) == ("call.logged", f"call:{carried.id}")
    assert entry.event.details == {"outcome": "no-answer", "effect": "log",
                                   "tasks": [carried.id, today.id], "had_task": True,
                                   "note": "rang"}


def test_a_call_without_a_task_is_recorded_at_the_level_sent(ledger):
    dupont = debtor(ledger, "411DUPONT")
    f1, f2 = invoice(ledger, dupont, "F1"), invoice(ledger, dupont, "F2")
    paid = invoice(ledger, dupont, "F3", status="settled")
    reminder(ledger, dupont, "a" * 64, level=2, invoices=(f1,))
    reminder(ledger, dupont, "b" * 64, level=3, status="failed", invoices=(f2,))
    reminder(ledger, dupont, "c" * 64, level=4, invoices=(paid,))
    with unit(ledger) as uow:
        logged = log_call(uow, "411DUPONT", "answered", today=TODAY, clock=clock)
    assert (logged["had_task"], logged["tasks"]) == (False, [])
    [made] = ledger.call_tasks.values()
    # Level 2: the failed reminder's 3 never went, the 4 was about an invoice since paid.
    assert (made.level, made.status, made.reminder_id, made.due_on) == (2, "done", None, TODAY)
    assert ledger.audit[0].event.details["had_task"] is False


def test_a_promise_on_the_phone_pauses_dunning_as_the_promise_command(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1")
    with unit(ledger) as uow:
        logged = log_call(uow, "411DUPONT", "promise", today=TODAY,
                          until=date(2026, 11, 16), clock=clock)
    assert logged["until"] == "2026-11-16"
    assert [p.until for p in ledger.promises.values()] == [date(2026, 11, 16)]
    assert [e[0] for e in events(ledger)] == ["promise.recorded", "call.logged"]


def test_a_dispute_on_the_phone_contests_the_overdue_invoices_not_yet_disputed(ledger):
    dupont = debtor(ledger, "411DUPONT")
    f1 = invoice(ledger, dupont, "F1")
    already = invoice(ledger, dupont, "F2", disputed=True)
    not_due = invoice(ledger, dupont, "F3", due=TODAY + timedelta(days=5))
    with unit(ledger) as uow:
        logged = log_call(uow, "411DUPONT", "dispute", today=TODAY, clock=clock)
    assert logged["invoices"] == ["F1"]
    assert (f1.disputed, f1.dispute_reason) == (True, "contested on the phone")
    assert (already.dispute_reason, not_due.disputed) == (None, False)
    assert [e[0] for e in events(ledger)] == ["invoice.dispute_opened", "call.logged"]


@pytest.mark.parametrize("kw, problem", [
    ({"outcome": "promise"}, "a promise needs --until DATE"),
    ({"outcome": "dispute", "invoices": ("F1", "Z9")}, "Z9: not an invoice of 411DUPONT"),
    ({"outcome": "dispute", "invoices": ("F1", "F2")}, "F2 is already disputed"),
    ({"account": "411NOBODY", "outcome": "answered"}, "no debtor '411NOBODY' in the ledger"),
])
def test_a_call_that_cannot_be_logged_changes_nothing(ledger, kw, problem):
    dupont = debtor(ledger, "411DUPONT")
    f1 = invoice(ledger, dupont, "F1")
    invoice(ledger, dupont, "F2", disputed=True)
    open_task = task(ledger, dupont)
    kw = {"account": "411DUPONT", **kw}
    with pytest.raises(CallError, match=problem), unit(ledger) as uow:
        log_call(uow, kw.pop("account"), kw.pop("outcome"), today=TODAY, clock=clock, **kw)
    # F1 was disputed before F2 refused: the unit of work rolled it back.
    assert (f1.disputed, f1.dispute_reason) == (False, None)
    assert (open_task.status, open_task.outcome) == ("open", None)
    assert ledger.audit == [] and len(ledger.call_tasks) == 1


def test_a_debtor_left_without_anything_overdue_to_dispute_is_told_to_name_one(ledger):
    dupont = debtor(ledger, "411DUPONT")
    invoice(ledger, dupont, "F1", due=TODAY)  # due today: not overdue yet
    with pytest.raises(CallError, match="no overdue invoice left to dispute"), \
            unit(ledger) as uow:
        log_call(uow, "411DUPONT", "dispute", today=TODAY)


# --- the outbox: a reminder put back --------------------------------------------------------


def test_a_failed_reminder_goes_back_with_only_what_did_not_go_out(ledger):
    dupont = debtor(ledger, "411DUPONT")
    row = reminder(ledger, dupont, "ab12cd34" + "0" * 56, status="failed", attempts=5,
                   last_error="550 no such user",
                   deliveries={"email": "needs_attention", "letter": "sent", "sms": "failed"})
    with unit(ledger) as uow:
        done = retry(uow, "AB12CD34", actor="a person")
    assert done == {"key": row.key[:12], "account": "411DUPONT", "level": 1, "was": "failed"}
    assert (row.status, row.attempts) == ("planned", 0)
    states = {d.channel: (d.status, d.attempts, d.claimed_by)
              for d in ledger.deliveries.values()}
    assert states == {"email": ("planned", 0, None), "letter": ("sent", 3, "run-1"),
                      "sms": ("planned", 0, None)}
    [entry] = ledger.audit
    assert (entry.actor, entry.event.subject) == ("a person", row.key)
    assert entry.event.details == {"was": "failed", "attempts_before": 5,
                                   "channels": ["email", "sms"],
                                   "last_error": "550 no such user"}


def test_a_sent_reminder_with_an_sms_stuck_beside_it_stays_sent(ledger):
    dupont = debtor(ledger, "411DUPONT")
    row = reminder(ledger, dupont, "ef56" * 16, status="sent",
                   deliveries={"email": "sent", "sms": "needs_attention"})
    with unit(ledger) as uow:
        assert retry(uow, "ef56ef56", actor="p")["was"] == "sent"
    assert row.status == "sent"
    assert sorted((d.channel, d.status) for d in ledger.deliveries.values()) == [
        ("email", "sent"), ("sms", "planned")]


@pytest.mark.parametrize("key, problem", [
    ("ab12", "give at least the first 8 characters"),
    ("ab12cd3%", "give at least the first 8 characters"),
    ("99999999", "no reminder whose key starts with '99999999'"),
    ("abcdabcd", "2 reminders have keys starting with 'abcdabcd': give more"),
    ("11112222", "is sent: only a failed one, or one that needs attention"),
])
def test_a_reminder_not_put_back(ledger, key, problem):
    dupont = debtor(ledger, "411DUPONT")
    reminder(ledger, dupont, "abcdabcd" + "1" * 56, status="failed")
    reminder(ledger, dupont, "abcdabcd" + "2" * 56, status="failed")
    reminder(ledger, dupont, "11112222" + "3" * 56, status="sent", deliveries={"email": "sent"})
    with pytest.raises(OutboxError, match=problem.replace("(", r"\(")), unit(ledger) as uow:
        retry(uow, key, actor="p")
    assert ledger.audit == []


# --- a dossier handed over, then closed -----------------------------------------------------


def test_a_dossier_is_found_by_its_id_or_a_prefix_of_eight(ledger):
    dupont = debtor(ledger, "411DUPONT")
    one = dossier(ledger, dupont, "1234abcd-0000")
    dossier(ledger, dupont, "5678abcd-0001")
    dossier(ledger, dupont, "5678abcd-0002")
    with unit(ledger) as uow:
        assert locate_dossier(uow.dossiers, " 1234abcd-0000 ") is one
        assert locate_dossier(uow.dossiers, "1234abcd") is one
        with pytest.raises(DossierNotFound, match="more than one dossier id starts with"):
            locate_dossier(uow.dossiers, "5678abcd")
        with pytest.raises(DossierNotFound, match="no dossier '1234'"):
            locate_dossier(uow.dossiers, "1234")  # too short to be a prefix


def test_a_dossier_goes_to_the_bailiff_once_exported_then_closes_with_its_balance(ledger):
    from recouvrement.adapters.db.models import LitigationPayment

    dupont = debtor(ledger, "411DUPONT")
    row = dossier(ledger, dupont, "d-1", status="queued")
    with pytest.raises(TransitionError, match="export the dossier first"), unit(ledger) as uow:
        hand_over(uow, row, to="bailiff", name="Me Huissier", reference=None, today=TODAY,
                  actor="p")
    row.status = "exported"
    with pytest.raises(TransitionError, match="name the bailiff or lawyer"), unit(ledger) as uow:
        hand_over(uow, row, to="bailiff", name="  ", reference=None, today=TODAY, actor="p")
    with unit(ledger) as uow:
        hand_over(uow, row, to="bailiff", name=" Me Huissier ", reference="H-7", today=TODAY,
                  actor="p")
    assert (row.status, row.handler, row.handler_reference) == (
        "with_bailiff", "Me Huissier", "H-7")
    ledger.add(LitigationPayment(dossier_id="d-1", invoice_number="F1", received_on=TODAY,
                                 amount=Decimal("300.00"), recorded_at=NOW))
    with unit(ledger) as uow:
        close_dossier(uow, row, outcome="settled", note="agreed", today=TODAY, actor="p")
    assert (row.status, row.outcome, row.closed_on) == ("closed", "settled", TODAY)
    handed, closed = [r.event for r in ledger.audit]
    assert handed.details == {"from": "exported", "to": "with_bailiff", "on": "2026-11-02",
                              "handler": " Me Huissier ", "reference": "H-7"}
    assert (closed.account, closed.details["balance"], closed.details["from"]) == (
        "411DUPONT", "500.00", "with_bailiff")
    with pytest.raises(TransitionError, match="already closed"), unit(ledger) as uow:
        close_dossier(uow, row, outcome="paid", note=None, today=TODAY, actor="p")
    assert len(ledger.audit) == 2
