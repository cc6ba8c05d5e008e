"""What one day's open-items snapshot means for an invoice the ledger already knows.

The export is the truth of its day (README, "Accounting exports"): an invoice it lists
takes the amounts it shows, one it omits is settled, and a snapshot older than the one
the invoice was last seen in changes nothing. These are the rules; `ingest/load.py`
applies them to the ledger's rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

OPEN, SETTLED, CREDIT = "open", "settled", "credit"


def status_of(open_amount: Decimal) -> str:
    """Open while something is owed, a credit (a credit note, an overpayment) below zero."""
    return OPEN if open_amount > 0 else CREDIT if open_amount < 0 else SETTLED


def is_older_snapshot(last_seen_on: date | None, export_date: date) -> bool:
    """A snapshot dropped late, older than the one the invoice was last seen in: it must
    not undo the newer one. The same day again is not older (a corrected export)."""
    return last_seen_on is not None and last_seen_on > export_date


def settled_by_absence(status: str, listed: bool, last_seen_on: date | None,
                       export_date: date) -> bool:
    """An open invoice (or credit) the snapshot no longer lists is settled, unless the
    invoice was seen in a snapshot as new as this one or newer."""
    return (status in (OPEN, CREDIT) and not listed
            and (last_seen_on is None or last_seen_on < export_date))


def restarts_limitation(old_open: Decimal, new_open: Decimal, set_off: bool) -> bool:
    """A part paid is an acknowledgement of the debt (Code civil 2240): limitation starts
    again from that day. A credit note set off against the invoice is no payment, and a
    payment in full leaves nothing to prescribe."""
    return 0 < new_open < old_open and not set_off
