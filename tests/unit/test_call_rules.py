"""The collectors' worklist as tables: its order, carrying over, and what a logged call may say."""

from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.calls import (CARRIED, DONE, OPEN, OUTCOMES, WorkItem, age_days,
                                       outcome_problem, to_carry, worklist_order)

D = Decimal


@pytest.mark.parametrize("items, expected", [
    # risk first: 80 before 60 whatever the amounts
    ([("411A", 60, "9000.00"), ("411B", 80, "100.00")], ["411B", "411A"]),
    # same risk: the larger amount owed first
    ([("411A", 80, "100.00"), ("411B", 80, "2500.50")], ["411B", "411A"]),
    # same risk and amount: by account, so the list does not move from one call to the next
    ([("411C", 80, "100.00"), ("411B", 80, "100.00")], ["411B", "411C"]),
    # a debtor not scored yet comes after every scored one, even one scored 0
    ([("411A", None, "9000.00"), ("411B", 0, "1.00"), ("411C", 70, "5.00")],
     ["411C", "411B", "411A"]),
])
def test_worklist_is_riskiest_then_largest_first(items, expected):
    rows = [{"account": a, "risk": r, "owed": D(o)} for a, r, o in items]
    ordered = worklist_order(rows, lambda r: WorkItem(r["account"], r["risk"], r["owed"]))
    assert [r["account"] for r in ordered] == expected


@pytest.mark.parametrize("status, due_on, today, carried", [
    (OPEN, date(2026, 11, 2), date(2026, 11, 2), False),   # its own day: still the day's task
    (OPEN, date(2026, 11, 2), date(2026, 11, 3), True),    # the day passed unworked
    (OPEN, date(2026, 10, 30), date(2026, 11, 2), True),   # Friday's task on Monday
    (CARRIED, date(2026, 11, 2), date(2026, 11, 5), False),  # carried already: stays carried
    (DONE, date(2026, 11, 2), date(2026, 11, 5), False),   # worked: never carried
])
def test_an_open_task_is_carried_once_its_day_has_passed(status, due_on, today, carried):
    assert to_carry(status, due_on, today) is carried


@pytest.mark.parametrize("due_on, today, days", [
    (date(2026, 11, 2), date(2026, 11, 2), 0),
    (date(2026, 11, 2), date(2026, 11, 3), 1),
    (date(2026, 10, 30), date(2026, 11, 2), 3),  # 31 Oct, 1 Nov, 2 Nov: calendar days
    (date(2026, 11, 5), date(2026, 11, 2), 0),   # a worklist asked for an earlier day
])
def test_a_task_s_age_is_the_days_since_it_was_due(due_on, today, days):
    assert age_days(due_on, today) == days


TODAY = date(2026, 11, 2)


@pytest.mark.parametrize("outcome, until, invoices, problem", [
    ("answered", None, (), None),
    ("no-answer", None, (), None),
    ("voicemail", None, (), None),
    ("promise", date(2026, 11, 20), (), None),
    ("promise", TODAY, (), None),  # paying today is a promise too
    ("dispute", None, (), None),  # every overdue invoice of the debtor
    ("dispute", None, ("F1", "F2"), None),
    ("promise", None, (), "a promise needs --until DATE"),
    ("promise", date(2026, 11, 1), (), "the promised date 2026-11-01 is already past"),
    ("answered", date(2026, 11, 20), (), "--until is for a promise"),
    ("promise", date(2026, 11, 20), ("F1",), "--invoice is for a dispute"),
    ("voicemail", None, ("F1",), "--invoice is for a dispute"),
    ("busy", None, (), "unknown outcome 'busy'"),
])
def test_what_a_logged_call_may_say(outcome, until, invoices, problem):
    found = outcome_problem(outcome, until=until, invoices=invoices, today=TODAY)
    assert (found is None) if problem is None else found.startswith(problem)


def test_only_a_promise_and_a_dispute_touch_the_ladder():
    assert {o for o, effect in OUTCOMES.items() if effect != "log"} == {"promise", "dispute"}
