"""The report's prescriptions list follows the engine's limitation rule."""

from __future__ import annotations

from datetime import date

import pandas as pd

from recouvrement.queries.dashboard.figures import _prescriptions


def frame(rows):
    return pd.DataFrame([{"account": "411A", "kind": "B2B", "open": 10000,  # cents
                          "last_payment_on": None, "acknowledged_on": None, **r} for r in rows])


def test_limits_count_from_the_due_date_and_flag_from_the_invoice_date():
    inv = frame([
        # Due 31 Dec 2020: five years end on 31 Dec 2025 (C. civ. 2233), 26 days after
        # 5 Dec 2025. Counted from the issue date it looked over since 1 Dec 2025: not listed.
        {"number": "U1", "issue_date": pd.Timestamp(2020, 12, 1), "due_date": date(2020, 12, 31)},
        # Issued 1 Jun 2021, due 31 Dec 2021: 2233 gives 31 Dec 2026, the invoice date
        # 1 Jun 2026, within 90 days of 5 Dec 2025? No: 178 days. Not listed.
        {"number": "L1", "issue_date": pd.Timestamp(2021, 6, 1), "due_date": date(2021, 12, 31)},
        # Issued 1 Jan 2021, due 1 Jul 2021: invoice-date limit 1 Jan 2026 (27 days): listed
        # with the 2233 limit of 1 Jul 2026.
        {"number": "E1", "issue_date": pd.Timestamp(2021, 1, 1), "due_date": date(2021, 7, 1)},
    ])
    rows = _prescriptions(inv, date(2025, 12, 5))
    assert [(r["invoice"], r["limit"], r["days_left"]) for r in rows] == [
        ("U1", date(2025, 12, 31), 26), ("E1", date(2026, 7, 1), 208)]
