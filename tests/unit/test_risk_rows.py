"""The hand-set score in plain Python gives what the same sums over frames give."""

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recouvrement.domain.risk import WEIGHTS, _points, risk_class, score_debtors

TODAY = date(2026, 11, 22)
ACCOUNTS = ["411A", "411B", "411C"]


def frame_scores(invoices, reminders, accounts, today):
    """The same factors computed with pandas' group-bys: the oracle."""
    inv = pd.DataFrame(invoices, columns=["account", "due_date", "open_amount"])
    rem = pd.DataFrame(reminders, columns=["account", "level", "sent_on"])
    inv["days_late"] = (pd.Timestamp(today) - pd.to_datetime(inv["due_date"])).dt.days.clip(lower=0)
    inv["overdue"] = inv["open_amount"].where(inv["days_late"] > 0, 0.0)
    per = inv.groupby("account").agg(days_past_due=("days_late", "max"),
                                     open_amount=("open_amount", "sum"),
                                     overdue_amount=("overdue", "sum"))
    per["overdue_share"] = (per["overdue_amount"] / per["open_amount"]).where(
        per["open_amount"] > 0, 0.0)
    recent = rem[pd.to_datetime(rem["sent_on"]) > pd.Timestamp(today) - pd.Timedelta(days=365)]
    history = pd.DataFrame({"reminders_12m": recent.groupby("account").size(),
                            "highest_level": rem.groupby("account")["level"].max()})
    table = per.join(history, how="outer").reindex(accounts).fillna(0.0)
    out = {}
    for account, row in zip(table.index, table.itertuples(index=False)):
        points = sum(_points(f, float(getattr(row, f))) for f in WEIGHTS)
        out[account] = int(round(points))
    return out


days = st.integers(min_value=-400, max_value=800).map(lambda n: TODAY - timedelta(days=n))
cents = st.integers(min_value=1, max_value=50_000_000).map(lambda c: c / 100)
invoice_rows = st.lists(st.tuples(st.sampled_from(ACCOUNTS), days, cents), max_size=12)
reminder_rows = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, 3), days),
                         max_size=8)


@settings(max_examples=200, deadline=None)
@given(invoice_rows, reminder_rows)
def test_plain_python_scores_match_the_frame_computation(invoices, reminders):
    scores = score_debtors(invoices, reminders, ACCOUNTS, TODAY)
    expected = frame_scores(invoices, reminders, ACCOUNTS, TODAY)
    assert {s.account: s.score for s in scores} == expected
    assert all(s.risk_class == risk_class(s.score) for s in scores)
