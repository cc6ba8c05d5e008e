"""Issue 14: the amounts, routes and limitation a lawyer checks first, computed by hand.

Each case gives the formula and every period in a comment. Rates: ECB main
refinancing rate 4.50 % on 1 Jan 2024, 4.25 % on 1 Jul 2024, 3.15 % on 1 Jan
2025, 2.15 % on 1 Jul 2025 and 1 Jan 2026; taux légal ("tous les autres cas")
2025-H1 3.71 %, 2025-H2 2.76 %.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.legal import (
    Payment,
    born_after_opening,
    fee_lost_to_proceedings,
    late_interest,
    limitation_date,
    limitation_start,
    limitation_status,
    payments_from_changes,
    recommend_procedure,
)
from recouvrement.domain.model import Debtor, DebtorKind, Procedure
from recouvrement.domain.rates import load_rates

B2B, B2C, PUBLIC = DebtorKind.B2B, DebtorKind.B2C, DebtorKind.PUBLIC
D = Decimal


def periods(st):
    return [(p.start, p.end, p.days, p.year_days, p.rate) for p in st.periods]


# --- 1. public buyers: one rate for the whole delay (CCP R2192-31) ------------------


def test_public_buyer_20000_due_in_h1_2024_paid_in_2025_keeps_the_rate_of_its_start():
    # Due 30 Apr 2024, paid 14 Feb 2025: interest from 1 May 2024 to 14 Feb 2025.
    # Interest began to run in 2024-H1: ECB on 1 Jan 2024 = 4.50 %, + 8 = 12.50 % for the
    # whole delay. 20000 x 12.50 % = 2500 a year.
    #   1 May - 30 Jun 2024:  61 days / 366 -> 2500 x 61/366  =  416.6667
    #   1 Jul - 31 Dec 2024: 184 days / 366 -> 2500 x 184/366 = 1256.8306
    #   1 Jan - 14 Feb 2025:  45 days / 365 -> 2500 x 45/365  =  308.2192
    #                                                    total 1981.7165 -> 1981.72
    # Re-rated each half-year (12.50, 12.25, 11.15 %) it made 1923.29: 58.43 short.
    st = late_interest(D("20000.00"), PUBLIC, date(2024, 4, 30), date(2025, 2, 14))
    assert periods(st) == [
        (date(2024, 5, 1), date(2024, 6, 30), 61, 366, D("12.50")),
        (date(2024, 7, 1), date(2024, 12, 31), 184, 366, D("12.50")),
        (date(2025, 1, 1), date(2025, 2, 14), 45, 365, D("12.50")),
    ]
    assert st.total == D("1981.72")
    assert not st.provisional


@pytest.mark.parametrize("due, until, rate, total", [
    # Interest from 21 Jun 2025 (2025-H1: ECB 3.15 + 8 = 11.15 %), to 20 Jul 2025:
    # 1000 x 11.15 % x 10/365 = 3.0548 + 1000 x 11.15 % x 20/365 = 6.1096 -> 9.16
    # (not 10.15 % from 1 July).
    (date(2025, 6, 20), date(2025, 7, 20), "11.15", "9.16"),
    # Due 30 Jun 2025: interest begins on 1 Jul 2025, in 2025-H2: ECB 2.15 + 8 = 10.15 %.
    # 1000 x 10.15 % x 20/365 = 5.5616 -> 5.56
    (date(2025, 6, 30), date(2025, 7, 20), "10.15", "5.56"),
])
def test_public_rate_is_the_one_of_the_half_year_interest_began(due, until, rate, total):
    st = late_interest(D("1000.00"), PUBLIC, due, until)
    assert {p.rate for p in st.periods} == {D(rate)}
    assert st.total == D(total)


def test_public_rate_fixed_in_2026_h1_is_not_provisional_in_2026_h2():
    # Began 1 Mar 2026 (2026-H1, ECB 2.15 recorded): 10.15 % to 30 Nov 2026, known.
    # 1000 x 10.15 % x (122 + 153) / 365 = 1000 x 0.1015 x 275/365 = 76.4726 -> 76.47
    st = late_interest(D("1000.00"), PUBLIC, date(2026, 2, 28), date(2026, 11, 30))
    assert {p.rate for p in st.periods} == {D("10.15")}
    assert st.total == D("76.47")
    assert not st.provisional
    # A trader's interest is re-rated on 1 July 2026: that half-year is provisional.
    assert late_interest(D("1000.00"), B2B, date(2026, 2, 28), date(2026, 11, 30)).provisional


# --- 2. partial payments: interest first, then principal (C. civ. 1343-1) --------------


def test_a_payment_goes_to_the_interest_accrued_then_to_the_principal():
    # 1000 due 30 Sep 2025 (B2B, 2025-H2: 2.15 + 10 = 12.15 %), 500 paid 30 Oct 2025,
    # interest to 29 Nov 2025.
    #   1 - 30 Oct on 1000:      1000 x 12.15 % x 30/365 = 9.9863 -> 9.99 due on 30 Oct
    #   payment 500: 9.99 to interest, 490.01 to principal -> principal 509.99
    #   31 Oct - 29 Nov on 509.99: 509.99 x 12.15 % x 30/365 = 5.0929 -> 5.09
    # Claim: principal 509.99 + interest 5.09 = 515.08 (the old engine: 500 + 9.99 = 509.99).
    st = late_interest(D("1000.00"), B2B, date(2025, 9, 30), date(2025, 11, 29),
                       payments=[Payment(date(2025, 10, 30), D("500.00"))])
    assert [(p.start, p.end, p.days, p.base) for p in st.periods] == [
        (date(2025, 10, 1), date(2025, 10, 30), 30, D("1000.00")),
        (date(2025, 10, 31), date(2025, 11, 29), 30, D("509.99")),
    ]
    [imp] = st.imputations
    assert (imp.on, imp.amount, imp.interest_due, imp.to_interest, imp.to_principal,
            imp.principal_after) == (date(2025, 10, 30), D("500.00"), D("9.99"), D("9.99"),
                                     D("490.01"), D("509.99"))
    assert (st.total, st.remaining_principal) == (D("5.09"), D("509.99"))


@pytest.mark.parametrize("payments, until, interest, principal, why", [
    # 5 paid on 30 Oct: less than the 9.99 due -> all to interest, 4.99 left unpaid;
    # 31 Oct - 29 Nov on 1000: 1000 x 12.15 % x 30/365 = 9.9863; 4.99 + 9.9863 -> 14.98
    ([Payment(date(2025, 10, 30), D("5.00"))], date(2025, 11, 29), "14.98", "1000.00",
     "smaller than the interest"),
    # 300 paid on 15 Sep, before the due date: nothing accrued, all to principal;
    # 1 - 30 Oct on 700: 700 x 12.15 % x 30/365 = 6.9904 -> 6.99
    ([Payment(date(2025, 9, 15), D("300.00"))], date(2025, 10, 30), "6.99", "700.00",
     "before the due date"),
    # 300 paid on a day the ledger does not know: counted on the due date, same figures
    ([Payment(date(2025, 9, 30), D("300.00"), date_known=False)], date(2025, 10, 30), "6.99",
     "700.00", "unknown day"),
    # A payment after the end date is not counted: 1000 x 12.15 % x 30/365 -> 9.99
    ([Payment(date(2025, 11, 5), D("300.00"))], date(2025, 10, 30), "9.99", "1000.00",
     "after the end"),
    # Two payments the same day act as one: 9.99 to interest, 490.01 to principal
    ([Payment(date(2025, 10, 30), D("200.00")), Payment(date(2025, 10, 30), D("300.00"))],
     date(2025, 10, 30), "0.00", "509.99", "same day"),
])
def test_imputation_table(payments, until, interest, principal, why):
    st = late_interest(D("1000.00"), B2B, date(2025, 9, 30), until, payments=payments)
    assert (st.total, st.remaining_principal) == (D(interest), D(principal)), why


def test_a_consumer_paying_before_the_notice_pays_principal_only():
    # 800 due 1 Jun 2025, 300 paid 20 Jun (no interest yet: runs from the notice of 1 Jul),
    # 2 - 10 Jul on 500 at the taux légal 2.76 %: 500 x 2.76 % x 9/365 = 0.3403 -> 0.34
    st = late_interest(D("800.00"), B2C, date(2025, 6, 1), date(2025, 7, 10),
                       formal_notice_on=date(2025, 7, 1),
                       payments=[Payment(date(2025, 6, 20), D("300.00"))])
    assert (st.total, st.remaining_principal) == (D("0.34"), D("500.00"))
    assert st.imputations[0].to_interest == D("0.00")


def test_three_invoices_and_a_500_payment():
    # A 1000 due 30 Sep 2025, B 1500 due 15 Oct, C 800 due 31 Oct; 500 paid on A (the oldest
    # due, C. civ. 1342-10), seen on 5 Nov 2025; interest to 5 Dec 2025 at 12.15 %.
    # A: 1 Oct - 5 Nov, 36 days on 1000: 1000 x 12.15 % x 36/365 = 11.9836 -> 11.98 to
    #    interest, 488.02 to principal -> 511.98; 6 Nov - 5 Dec, 30 days on 511.98:
    #    511.98 x 12.15 % x 30/365 = 5.1128 -> 5.11
    # B: 16 Oct - 5 Dec, 51 days: 1500 x 12.15 % x 51/365 = 25.4651 -> 25.47
    # C: 1 Nov - 5 Dec, 35 days: 800 x 12.15 % x 35/365 = 9.3205 -> 9.32
    # Claim: principal 2811.98, interest 39.90, fees 120 = 2971.88. The old engine, on the
    # open 500 from the due date (500 x 12.15 % x 66/365 = 10.98): 2965.77, 6.11 short.
    until = date(2025, 12, 5)
    a = late_interest(D("1000.00"), B2B, date(2025, 9, 30), until,
                      payments=[Payment(date(2025, 11, 5), D("500.00"))])
    b = late_interest(D("1500.00"), B2B, date(2025, 10, 15), until)
    c = late_interest(D("800.00"), B2B, date(2025, 10, 31), until)
    assert [(s.remaining_principal, s.total) for s in (a, b, c)] == [
        (D("511.98"), D("5.11")), (D("1500.00"), D("25.47")), (D("800.00"), D("9.32"))]
    old = late_interest(D("500.00"), B2B, date(2025, 9, 30), until)
    assert old.total == D("10.98")


@pytest.mark.parametrize("amount, open_amount, changes, expected", [
    # One drop seen by the export of 30 Oct: a payment that day.
    ("1000", "500", [(date(2025, 10, 30), "1000", "500")],
     [(date(2025, 10, 30), "500", True)]),
    # Already 4000 open in the first export that listed it: 1000 paid on an unknown day.
    ("5000", "4000", [], [(date(2025, 6, 15), "1000", False)]),
    # 400 dropped on 1 Oct, 100 of it back on 5 Oct (a payment rejected).
    ("1000", "700", [(date(2025, 10, 1), "1000", "600"), (date(2025, 10, 5), "600", "700")],
     [(date(2025, 10, 1), "300", True)]),
    # First listed at 800, then 400: 200 before the first export, 400 on 1 Oct.
    ("1000", "400", [(date(2025, 10, 1), "800", "400")],
     [(date(2025, 6, 15), "200", False), (date(2025, 10, 1), "400", True)]),
])
def test_payments_from_the_open_amount_history(amount, open_amount, changes, expected):
    got = payments_from_changes(D(amount), D(open_amount), date(2025, 6, 15),
                                [(d, D(a), D(b)) for d, a, b in changes])
    assert [(p.on, p.amount, p.date_known) for p in got] == [
        (d, D(a), known) for d, a, known in expected]


# --- 3, 4, 9. the route: small claims ceiling, 750-1, urgent claims ---------------------


def who(kind=B2B, since=None) -> Debtor:
    # A B2B debtor here is a commercial company (SAS, a trader by its form): the court
    # for a debtor whose form does not say is tested in test_courts.py.
    return Debtor(account="411DUP", name="Dupont", kind=kind, collective_proceedings_since=since,
                  legal_form="SAS")


@pytest.mark.parametrize("kind, amount, urgent, procedure, mentions", [
    # 4971.45 in principal and interest, + 120 fees = 5091.45: still a small claim (R125-1).
    (B2B, "4971.45", None, Procedure.PETITES_CREANCES, ["fixed fees do not count", "R125-1"]),
    (B2B, "5000.00", None, Procedure.PETITES_CREANCES, ["25-70.013", "tribunal judiciaire only",
                                                        "waives"]),
    (B2B, "5000.01", None, Procedure.INJONCTION_DE_PAYER, ["above 5000"]),
    # Urgent: the small-claims procedure only suspends, with the debtor's agreement (L125-1).
    (B2B, "1200.00", date(2026, 12, 31), Procedure.INJONCTION_DE_PAYER,
     ["2026-12-31", "L125-1", "2241", "tribunal de commerce"]),
    (B2C, "300.00", date(2026, 12, 31), Procedure.INJONCTION_DE_PAYER,
     ["2241", "tribunal judiciaire"]),
    (B2B, "9000.00", date(2026, 12, 31), Procedure.INJONCTION_DE_PAYER, ["above 5000"]),
    (PUBLIC, "1200.00", date(2026, 12, 31), Procedure.REFERE_PROVISION, ["référé-provision"]),
])
def test_route(kind, amount, urgent, procedure, mentions):
    got, reasons = recommend_procedure(who(kind), D(amount), prescribed_after=urgent)
    assert got is procedure
    text = " ".join(reasons)
    for word in mentions:
        assert word in text, word
    assert "conciliation or mediation attempt is required" not in text


# --- 5. collective proceedings ---------------------------------------------------------

OPENING = date(2026, 3, 2)


@pytest.mark.parametrize("issued, due, after, fee_lost", [
    (date(2026, 1, 15), date(2026, 2, 15), False, False),  # overdue before the opening: kept
    (date(2026, 2, 1), date(2026, 3, 2), False, True),  # due the day of the judgment: lost
    (date(2026, 2, 1), date(2026, 4, 1), False, True),  # opening before the due date: lost
    (date(2026, 3, 2), date(2026, 4, 1), False, True),  # issued that day: taken as before
    (date(2026, 3, 10), date(2026, 4, 9), True, False),  # born after: paid at maturity
])
def test_collective_proceedings_claims_and_fee(issued, due, after, fee_lost):
    assert born_after_opening(issued, OPENING) is after
    assert fee_lost_to_proceedings(due, issued, OPENING) is fee_lost
    assert fee_lost_to_proceedings(due, issued, None) is False


def test_a_claim_born_after_the_opening_is_chased_not_declared():
    got, reasons = recommend_procedure(who(since=OPENING), D("1200.00"),
                                       born_after_opening=True)
    assert got is Procedure.PETITES_CREANCES
    assert "L622-17 I" in reasons[0] and "administrateur judiciaire" in reasons[0]
    got, _ = recommend_procedure(who(since=OPENING), D("1200.00"))
    assert got is Procedure.DECLARATION_DE_CREANCE


# --- 6, 7. limitation: from the due date; reminders interrupt a public debtor's ---------


@pytest.mark.parametrize("kind, due, paid, requests, start, limit", [
    # 2233: from the due date, not the issue date: 31 Dec 2021 + 5 years (L110-4).
    (B2B, date(2021, 12, 31), None, (), date(2021, 12, 31), date(2026, 12, 31)),
    # A reminder does not interrupt a trader's prescription.
    (B2B, date(2021, 12, 31), None, (date(2022, 1, 10),), date(2021, 12, 31),
     date(2026, 12, 31)),
    # A part payment does (2240).
    (B2B, date(2021, 12, 31), date(2024, 3, 1), (), date(2024, 3, 1), date(2029, 3, 1)),
    # Public debtor, due 30 Nov 2021: 4 years from 1 Jan 2022 -> 31 Dec 2025 ...
    (PUBLIC, date(2021, 11, 30), None, (), date(2021, 11, 30), date(2025, 12, 31)),
    # ... but the reminder of 10 Jan 2022 interrupts it (loi 68-1250 art. 2): a new four
    # years from 1 Jan 2023 -> 31 Dec 2026.
    (PUBLIC, date(2021, 11, 30), None, (date(2021, 12, 15), date(2022, 1, 10)),
     date(2022, 1, 10), date(2026, 12, 31)),
    # 2 years against a consumer, from the due date.
    (B2C, date(2024, 11, 30), None, (date(2025, 1, 10),), date(2024, 11, 30),
     date(2026, 11, 30)),
])
def test_limitation_start_and_end(kind, due, paid, requests, start, limit):
    got = limitation_start(kind, due, paid_on=paid, requests=requests)
    assert got == start
    assert limitation_date(kind, got) == limit


def test_claims_the_old_rules_dropped_are_still_alive_on_2_december_2026():
    today = date(2026, 12, 2)
    # Issued 1 Nov 2021, due 31 Dec 2021: counted from the issue date it was prescribed
    # on 2 Nov 2026; from the due date it is urgent (29 days left).
    assert limitation_status(B2B, date(2021, 11, 1), today) == "prescribed"
    assert limitation_status(B2B, limitation_start(B2B, date(2021, 12, 31)), today) == "urgent"
    # Public debtor due 30 Nov 2021, reminded on 10 Jan 2022: alive until 31 Dec 2026.
    start = limitation_start(PUBLIC, date(2021, 11, 30), requests=(date(2022, 1, 10),))
    assert limitation_status(PUBLIC, date(2021, 11, 30), today) == "prescribed"
    assert limitation_status(PUBLIC, start, today) == "urgent"


# --- 8. contractual rate below 3 x the taux légal of a past half-year --------------------


def test_contractual_rate_below_a_past_floor_is_floored_for_that_half_year_only():
    # 9 % agreed; 1000 due 15 Jun 2025, to 15 Jul 2025.
    #   16 - 30 Jun (2025-H1, floor 3 x 3.71 = 11.13 %): 1000 x 11.13 % x 15/365 = 4.5740
    #   1 - 15 Jul (2025-H2, floor 3 x 2.76 = 8.28 %, 9 % stands): 1000 x 9 % x 15/365 = 3.6986
    #   total 8.2726 -> 8.27
    st = late_interest(D("1000.00"), B2B, date(2025, 6, 15), date(2025, 7, 15),
                       contractual_rate=D("9.00"))
    assert [p.rate for p in st.periods] == [D("11.13"), D("9.00")]
    assert st.total == D("8.27")
    assert any("2025-H1" in n and "11.13" in n for n in st.notes)


# --- 12. rates: a half-year not recorded is provisional ---------------------------------


@pytest.mark.parametrize("day", [date(2026, 7, 1), date(2026, 12, 31), date(2027, 1, 1),
                                 date(2027, 6, 30)])
def test_half_years_not_recorded_are_provisional(day):
    rates = load_rates()
    assert rates.legal_rate(day)[1] is True
    assert rates.ecb_rate_is_provisional(day) is True
    assert rates.late_interest_rate(B2B, day)[1] is True


def test_urgency_counts_from_the_earlier_start_courts_may_take_dropping_from_the_later():
    # Issued 1 Jun 2021 (the service performed), due 31 Dec 2021. From the due date (C. civ.
    # 2233) the five years end on 31 Dec 2026; from the performance (C. civ. 2224, as the Cour
    # de cassation counts for invoices) on 1 Jun 2026. On 20 May 2026: urgent, 12 days before
    # the earlier end, though 225 days remain on the later one.
    issued, due = date(2021, 6, 1), date(2021, 12, 31)
    assert limitation_status(B2B, due, date(2026, 5, 20)) == "ok"
    assert limitation_status(B2B, due, date(2026, 5, 20), earliest_start=issued) == "urgent"
    # Past the earlier end the claim is still chased (urgent), never dropped before 2233's.
    assert limitation_status(B2B, due, date(2026, 7, 1), earliest_start=issued) == "urgent"
    assert limitation_status(B2B, due, date(2027, 1, 1), earliest_start=issued) == "prescribed"
    from recouvrement.domain.legal import earliest_limitation_note

    note = earliest_limitation_note(B2B, due, issued, date(2026, 7, 1))
    assert "since 2026-06-02" in note and "after 2026-12-31" in note and "20-12.520" in note
    assert earliest_limitation_note(B2B, due, due, date(2026, 7, 1)) is None
