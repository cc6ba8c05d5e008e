"""The snapshot rules as a table: what one day's export means for an invoice already known."""

from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.snapshot import (
    is_older_snapshot,
    restarts_limitation,
    settled_by_absence,
    status_of,
)

MON, TUE = date(2026, 11, 2), date(2026, 11, 3)


@pytest.mark.parametrize("amount, status", [
    ("120.00", "open"), ("0.01", "open"), ("0.00", "settled"), ("-0.01", "credit"),
    ("-50.00", "credit")])
def test_status_follows_the_open_amount(amount, status):
    assert status_of(Decimal(amount)) == status


@pytest.mark.parametrize("last_seen, export, older", [
    (None, MON, False),   # never seen: nothing to undo
    (MON, MON, False),    # the same day again (a corrected export) applies
    (MON, TUE, False),
    (TUE, MON, True),     # Monday's file dropped after Tuesday's: ignored
])
def test_an_older_snapshot_is_ignored(last_seen, export, older):
    assert is_older_snapshot(last_seen, export) is older


@pytest.mark.parametrize("status, listed, last_seen, export, settled", [
    ("open", False, MON, TUE, True),      # gone from Tuesday's export: paid
    ("credit", False, MON, TUE, True),    # a credit note used up
    ("open", True, MON, TUE, False),      # still listed
    ("settled", False, MON, TUE, False),  # already settled
    ("open", False, TUE, TUE, False),     # seen today in another file of the same day
    ("open", False, TUE, MON, False),     # an older snapshot settles nothing
    ("open", False, None, TUE, True),
])
def test_settled_by_absence(status, listed, last_seen, export, settled):
    assert settled_by_absence(status, listed, last_seen, export) is settled


@pytest.mark.parametrize("old, new, set_off, restarts", [
    ("1000.00", "400.00", False, True),   # a part paid: an acknowledgement (C. civ. 2240)
    ("1000.00", "400.00", True, False),   # a credit note set off is no payment
    ("1000.00", "0.00", False, False),    # paid in full: nothing left to prescribe
    ("400.00", "1000.00", False, False),  # the open amount went up (a correction)
    ("1000.00", "1000.00", False, False),
])
def test_what_restarts_limitation(old, new, set_off, restarts):
    assert restarts_limitation(Decimal(old), Decimal(new), set_off) is restarts
