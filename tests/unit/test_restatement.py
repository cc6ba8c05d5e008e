"""A queued claim stated again on a later day: the payments kept at queueing plus those seen
since, imputed interest first (Code civil 1343-1); the notes' French text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from recouvrement.domain.legal import (
    Note,
    Payment,
    late_interest,
    note_text,
    payments_since_queueing,
)
from recouvrement.domain.model import DebtorKind

BEFORE = (Payment(date(2026, 10, 1), D("200.00"), date_known=False),)


@pytest.mark.parametrize("after, expected", [
    ([], BEFORE),
    # a payment seen in the export of 5 Nov comes after those of the queueing
    ([(date(2026, 11, 5), D("500.00"))], BEFORE + (Payment(date(2026, 11, 5), D("500.00")),)),
    # a reversal (-300) cancels the latest payment's part first: 500 - 300 = 200 left
    ([(date(2026, 11, 5), D("500.00")), (date(2026, 11, 9), D("-300.00"))],
     BEFORE + (Payment(date(2026, 11, 5), D("200.00")),)),
    # one larger than the payments since eats into those of the queueing: 500 + 200 - 600
    ([(date(2026, 11, 5), D("500.00")), (date(2026, 11, 9), D("-600.00"))],
     (Payment(date(2026, 10, 1), D("100.00"), date_known=False),)),
])
def test_payments_since_queueing(after, expected):
    assert payments_since_queueing(BEFORE, after) == expected


@pytest.mark.parametrize("until, principal, interest", [
    # 2 Oct - 5 Nov, 35 days: 1200 x 12.15 % x 35/365 = 13.9808 -> 13.98 accrued on the day of
    # the 500 paid: 13.98 to interest, 486.02 to principal -> 713.98, no interest left.
    (date(2026, 11, 5), "713.98", "0.00"),
    # then 6 - 30 Nov, 25 days: 713.98 x 12.15 % x 25/365 = 5.9417 -> 5.94
    (date(2026, 11, 30), "713.98", "5.94"),
    # before the payment (the queueing day, 4 Nov): 1200 x 12.15 % x 34/365 = 13.5814 -> 13.58
    (date(2026, 11, 4), "1200.00", "13.58"),
])
def test_a_payment_after_queueing_is_imputed_interest_first(until, principal, interest):
    st = late_interest(D("1200.00"), DebtorKind.B2B, date(2026, 10, 1), until,
                       payments=payments_since_queueing((), [(date(2026, 11, 5), D("500"))]))
    assert (f"{st.remaining_principal:.2f}", f"{st.total:.2f}") == (principal, interest)


def test_notes_read_in_english_and_give_their_french_text():
    st = late_interest(D("800.00"), DebtorKind.B2C, date(2026, 6, 1), date(2026, 7, 10))
    [note] = st.notes
    assert "No formal notice" in note  # the English text, as logs and reports show it
    assert note_text(note) == ("Pas de mise en demeure : les intérêts dus par un consommateur "
                               "ne courent qu'à compter de la mise en demeure (Code civil, "
                               "art. 1231-6 et 1344-1).")
    assert note_text(note, "en") == str(note)
    assert note_text("an older dossier's note") == "an older dossier's note"
    paid = late_interest(D("100.00"), DebtorKind.B2B, date(2026, 6, 1), date(2026, 7, 10),
                         payments=[Payment(date(2026, 6, 10), D("150.00"))])
    # 100 x 12.15 % x 9/365 = 0.2996 -> 0.30 interest; 150 - 0.30 - 100 = 49.70 paid beyond
    assert [note_text(n) for n in paid.notes] == [
        "Le paiement du 10/06/2026 dépasse de 49,70\u00a0€ les intérêts et le principal dus."]
    assert isinstance(paid.notes[0], Note)
