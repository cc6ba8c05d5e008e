from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.pauses import BROKEN, COMPLETED, HONOURED, make_instalments, plan_state


def test_instalments_split_to_the_cent_and_the_last_takes_the_remainder():
    plan = make_instalments(Decimal("1000.00"), 3, date(2026, 12, 1), every_days=30)
    assert [(i.due, i.amount) for i in plan] == [
        (date(2026, 12, 1), Decimal("333.33")), (date(2026, 12, 31), Decimal("333.33")),
        (date(2027, 1, 30), Decimal("333.34"))]
    assert sum(i.amount for i in plan) == Decimal("1000.00")


@pytest.mark.parametrize("count, every, total", [(0, 30, "10"), (2, 0, "10"), (2, 30, "0")])
def test_impossible_plans_are_refused(count, every, total):
    with pytest.raises(ValueError):
        make_instalments(Decimal(total), count, date(2026, 12, 1), every_days=every)


PLAN = make_instalments(Decimal("900.00"), 3, date(2026, 12, 1), every_days=30)


@pytest.mark.parametrize("open_now, today, state, words", [
    ("900.00", date(2026, 11, 25), HONOURED, "instalment 1 of 300.00 due 2026-12-01"),
    ("900.00", date(2026, 12, 6), HONOURED, "instalment 1"),            # within the grace days
    ("900.00", date(2026, 12, 7), BROKEN, "instalment 1 of 300.00 due 2026-12-01 unpaid"),
    ("600.00", date(2026, 12, 7), HONOURED, "instalment 2 of 300.00 due 2026-12-31"),
    ("650.00", date(2026, 12, 7), BROKEN, "instalment 1"),              # paid only part of it
    ("300.00", date(2027, 1, 10), HONOURED, "instalment 3"),
    ("0.00", date(2027, 3, 1), COMPLETED, "completed"),
])
def test_plan_state(open_now, today, state, words):
    result = plan_state(PLAN, Decimal("900.00"), Decimal(open_now), today, grace_days=5)
    assert result.state == state and words in result.reason
