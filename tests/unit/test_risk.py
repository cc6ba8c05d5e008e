from datetime import date

import pytest

from recouvrement.domain.risk import WEIGHTS, risk_class, score_debtors

TODAY = date(2026, 11, 22)


def frames(invoices, reminders=()):
    """(account, due_date, open_amount) and (account, level, sent_on) rows."""
    return list(invoices), list(reminders)


def test_a_debtor_with_nothing_overdue_and_no_history_scores_zero():
    inv, rem = frames([("A", date(2026, 12, 15), 5000.0)])
    [score] = score_debtors(inv, rem, ["A"], TODAY)
    assert (score.score, score.risk_class) == (0, "low")


def test_a_long_overdue_chased_debtor_scores_high_and_says_why():
    inv, rem = frames([("B", date(2026, 6, 1), 150_000.0)],
                      [("B", 1, date(2026, 6, 2)), ("B", 2, date(2026, 6, 17)), ("B", 3, date(2026, 6, 25))])
    [score] = score_debtors(inv, rem, ["B"], TODAY)
    assert score.risk_class == "high"
    assert score.factors["days_past_due"] == {"value": 174.0, "points": 35.0}
    assert score.factors["overdue_share"]["points"] == 25.0
    assert score.factors["highest_level"]["points"] == 15.0
    assert score.score == round(sum(f["points"] for f in score.factors.values()))


def test_scores_rank_debtors_by_how_late_and_how_much():
    inv, rem = frames([("A", date(2026, 11, 15), 1000.0), ("A", date(2026, 12, 30), 9000.0),
                       ("B", date(2026, 9, 1), 8000.0)])
    a, b = score_debtors(inv, rem, ["A", "B"], TODAY)
    assert a.score < b.score
    assert a.factors["overdue_share"]["value"] == 0.1


def test_reminders_older_than_a_year_do_not_count_in_the_recent_history():
    inv, rem = frames([], [("C", 1, date(2025, 1, 2))])
    [score] = score_debtors(inv, rem, ["C"], TODAY)
    assert score.factors["reminders_12m"]["value"] == 0
    assert score.factors["highest_level"]["value"] == 1


@pytest.mark.parametrize("score, expected", [(0, "low"), (29, "low"), (30, "medium"), (59, "medium"), (60, "high"), (100, "high")])
def test_classes(score, expected):
    assert risk_class(score) == expected


def test_weights_add_up_to_one_hundred():
    assert sum(cap for cap, _ in WEIGHTS.values()) == 100
