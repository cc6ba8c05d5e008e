"""The default ladder decided as a table of dates."""

from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.ladder import NOTHING, SEND, SKIP, decide, due_for_litigation, next_level_date
from recouvrement.domain.model import Debtor, DebtorKind, Invoice
from recouvrement.domain.policy import load_policy

POLICY = load_policy()
DEBTOR = Debtor(account="411DUPONT", name="Dupont SARL", email="compta@dupont.example.com")


def invoice(number="F1", due=date(2026, 10, 5), open_amount="1200.00", sent=None, **kw):
    return Invoice(number=number, account="411DUPONT", issue_date=date(2026, 9, 5), due_date=due,
                   amount=Decimal("1200.00"), open_amount=Decimal(open_amount),
                   sent_levels=sent or {}, **kw)


@pytest.mark.parametrize("sent, today, expected", [
    ({}, date(2026, 10, 5), (1, date(2026, 10, 5))),                     # due on a Monday
    ({}, date(2026, 10, 1), (1, date(2026, 10, 5))),
    ({1: date(2026, 10, 5)}, date(2026, 10, 5), (2, date(2026, 10, 20))),  # +15 days
    ({1: date(2026, 10, 5), 2: date(2026, 10, 20)}, date(2026, 10, 20), (3, date(2026, 10, 28))),
    ({1: date(2026, 10, 5), 2: date(2026, 10, 20), 3: date(2026, 10, 28)}, date(2026, 11, 9), None),
])
def test_next_level_date_follows_the_default_ladder(sent, today, expected):
    assert next_level_date(invoice(sent=sent), POLICY, today) == expected


def test_level_due_on_a_holiday_goes_out_the_next_business_day():
    # Due Saturday 31 October 2026; 1 November is a Sunday and a holiday; Monday 2 November.
    assert next_level_date(invoice(due=date(2026, 10, 31)), POLICY, date(2026, 11, 2)) == (1, date(2026, 11, 2))
    # 1 level-2 date falling on 11 November (Armistice) moves to the 12th.
    assert next_level_date(invoice(sent={1: date(2026, 10, 27)}), POLICY, date(2026, 11, 12)) == (2, date(2026, 11, 12))


def test_sends_the_highest_level_due_listing_every_overdue_invoice():
    invoices = [invoice("F1", sent={1: date(2026, 9, 1), 2: date(2026, 9, 16)}, due=date(2026, 9, 1)),
                invoice("F2", due=date(2026, 10, 1)),
                invoice("F3", due=date(2026, 12, 1))]  # not yet due: not listed
    decision = decide(DEBTOR, invoices, today=date(2026, 10, 5), policy=POLICY,
                      last_contact=date(2026, 9, 16))
    assert decision.action == SEND
    assert decision.level == 3
    assert decision.listed == ("F1", "F2")
    assert decision.advances == {"F1": 3, "F2": 1}


def test_levels_climb_one_at_a_time_even_long_after_the_due_date():
    decision = decide(DEBTOR, [invoice(due=date(2026, 6, 1))], today=date(2026, 10, 5), policy=POLICY)
    assert (decision.action, decision.level) == (SEND, 1)


@pytest.mark.parametrize("invoices, debtor, kwargs, action, reason", [
    ([invoice(open_amount="0")], DEBTOR, {}, NOTHING, "nothing open"),
    ([invoice(disputed=True)], DEBTOR, {}, NOTHING, "disputed"),
    ([invoice(in_litigation=True)], DEBTOR, {}, NOTHING, "litigation"),
    ([invoice()], Debtor("411X", "X", blocked=True, email="x@example.com"), {}, SKIP, "blocked"),
    # issued 5 Sept, before the opening of 10 Sept: declared, never chased (L622-21)
    ([invoice()], Debtor("411X", "X", email="x@example.com",
                         collective_proceedings_since=date(2026, 9, 10)), {}, SKIP, "collective"),
    # issued on the day of the opening: taken as born before it, declared
    ([invoice()], Debtor("411X", "X", email="x@example.com",
                         collective_proceedings_since=date(2026, 9, 5)), {}, SKIP, "collective"),
    ([invoice()], DEBTOR, {"pending": True}, SKIP, "waiting to be sent"),
    ([invoice()], DEBTOR, {"last_contact": date(2026, 10, 2)}, SKIP, "minimum gap"),
    ([invoice(due=date(2026, 10, 20))], DEBTOR, {}, NOTHING, "next level due on 2026-10-20"),
])
def test_reasons_for_not_sending(invoices, debtor, kwargs, action, reason):
    decision = decide(debtor, invoices, today=date(2026, 10, 5), policy=POLICY, **kwargs)
    assert decision.action == action
    assert reason in decision.reason


def test_gap_of_exactly_the_minimum_allows_a_contact():
    decision = decide(DEBTOR, [invoice()], today=date(2026, 10, 5), policy=POLICY,
                      last_contact=date(2026, 9, 30))
    assert decision.action == SEND


def test_nothing_is_sent_on_a_weekend_or_holiday():
    decision = decide(DEBTOR, [invoice(due=date(2026, 10, 1))], today=date(2026, 11, 11), policy=POLICY)
    assert decision.action == SKIP and "not a business day" in decision.reason


def test_disputed_invoice_is_neither_chased_nor_listed():
    invoices = [invoice("F1", due=date(2026, 9, 1), disputed=True), invoice("F2", due=date(2026, 10, 1))]
    decision = decide(DEBTOR, invoices, today=date(2026, 10, 5), policy=POLICY)
    assert decision.listed == ("F2",)


def test_invoice_below_the_policy_minimum_is_not_chased():
    from dataclasses import replace

    policy = replace(POLICY, min_open_amount=Decimal("50"))
    decision = decide(DEBTOR, [invoice(open_amount="49.99")], today=date(2026, 10, 5), policy=policy)
    assert decision.action == NOTHING


@pytest.mark.parametrize("today, expected", [
    (date(2026, 11, 5), False),  # deadline: formal notice 28 Oct + 8 days = 5 Nov
    (date(2026, 11, 6), True),
])
def test_litigation_after_the_formal_notice_deadline(today, expected):
    sent = {1: date(2026, 10, 5), 2: date(2026, 10, 20), 3: date(2026, 10, 28)}
    assert due_for_litigation(invoice(sent=sent), today=today, policy=POLICY) is expected


def test_paid_or_disputed_invoice_never_goes_to_litigation():
    sent = {1: date(2026, 10, 5), 2: date(2026, 10, 20), 3: date(2026, 10, 28)}
    assert not due_for_litigation(invoice(sent=sent, open_amount="0"), today=date(2026, 12, 1), policy=POLICY)
    assert not due_for_litigation(invoice(sent=sent, disputed=True), today=date(2026, 12, 1), policy=POLICY)


def test_a_promise_pauses_then_the_next_level_is_due_the_day_after_it():
    promised = Debtor(account="411DUPONT", name="Dupont", email="a@dupont.example.com",
                      promise_until=date(2026, 10, 9))
    sent = {1: date(2026, 10, 1)}  # level 2 normally due 16 October
    paused = decide(promised, [invoice(sent=sent)], today=date(2026, 10, 9), policy=POLICY)
    assert paused.action == SKIP and paused.reason == "promise to pay until 2026-10-09"
    resumed = decide(promised, [invoice(sent=sent)], today=date(2026, 10, 12), policy=POLICY,
                     last_contact=date(2026, 10, 1))
    assert (resumed.action, resumed.level) == (SEND, 2)
    # Once that level went out after the promise, the usual clock runs again.
    after = {1: date(2026, 10, 1), 2: date(2026, 10, 12)}
    assert next_level_date(invoice(sent=after), POLICY, date(2026, 10, 13),
                           promise_until=date(2026, 10, 9)) == (3, date(2026, 10, 20))


def test_an_invoice_under_an_honoured_payment_plan_is_not_chased():
    decision = decide(DEBTOR, [invoice(paused="payment plan honoured: instalment 1")],
                      today=date(2026, 10, 5), policy=POLICY)
    assert decision.action == NOTHING and "payment plan honoured" in decision.reason


def test_a_prescribed_claim_is_never_chased_nor_escalated_and_is_reported():
    old = Invoice(
        number="F-OLD", account="411DUPONT", issue_date=date(2021, 8, 1), due_date=date(2021, 9, 1),
        amount=Decimal("500"), open_amount=Decimal("500"),
        sent_levels={1: date(2021, 9, 1), 2: date(2021, 9, 16), 3: date(2021, 9, 24)})
    decision = decide(DEBTOR, [old], today=date(2026, 10, 5), policy=POLICY)
    assert decision.action == NOTHING and "F-OLD prescribed" in decision.reason
    # Five years from the due date of 1 Sept 2021 (C. civ. 2233, C. com. L110-4), not
    # from the issue date: the last day is 1 Sept 2026.
    assert decision.notes == ("F-OLD prescribed since 2026-09-01",)
    assert not due_for_litigation(old, today=date(2026, 10, 5), policy=POLICY, debtor=DEBTOR)


def test_a_partial_payment_restarts_the_limitation_period():
    old = Invoice(number="F-OLD", account="411DUPONT", issue_date=date(2021, 8, 1),
                  due_date=date(2021, 9, 1), amount=Decimal("500"), open_amount=Decimal("200"),
                  limitation_start=date(2024, 3, 1))
    decision = decide(DEBTOR, [old], today=date(2026, 10, 5), policy=POLICY)
    assert decision.action == SEND


def test_a_claim_close_to_its_limit_is_flagged_urgent():
    near = Invoice(number="F-NEAR", account="411DUPONT", issue_date=date(2021, 11, 1),
                   due_date=date(2021, 12, 1), amount=Decimal("500"), open_amount=Decimal("500"))
    decision = decide(DEBTOR, [near], today=date(2026, 10, 5), policy=POLICY)
    # Counted from the due date (C. civ. 2233): 1 Dec 2021 + 5 years; 57 days left.
    assert decision.notes == ("F-NEAR URGENT: prescribed after 2026-12-01",)


def test_end_of_month_counts_from_the_last_day_of_the_due_dates_month():
    from dataclasses import replace

    from recouvrement.domain.policy import Level

    policy = replace(POLICY, levels=(Level(1, 10, "end_of_month", ("email",), "level1"),) + POLICY.levels[1:])
    # due 5 October -> end of month 31 October + 10 days = 10 November (a Tuesday)
    assert next_level_date(invoice(), policy, date(2026, 11, 10)) == (1, date(2026, 11, 10))


def test_a_high_risk_debtor_gets_a_phone_call_at_level_one_and_no_courtesy_notice():
    """The default policy says so in its `high-risk` segment, not the ladder's code."""
    from dataclasses import replace

    from recouvrement.domain.policy import Level

    risky = Debtor(account="411R", name="R", email="r@r.example.com", risk_class="high")
    own = POLICY.for_debtor(risky)
    assert own.name == "high-risk"
    decision = decide(risky, [invoice()], today=date(2026, 10, 5), policy=own)
    assert decision.level == 1 and decision.channels == ("email", "phone")
    assert decide(DEBTOR, [invoice()], today=date(2026, 10, 5),
                  policy=POLICY.for_debtor(DEBTOR)).channels == ("email",)
    # A base ladder with a courtesy notice sends it to others, not to the high-risk segment.
    courtesy = replace(POLICY, levels=(Level(0, -5, "due_date", ("email",), "level0"),) + POLICY.levels)
    assert next_level_date(invoice(), courtesy.for_debtor(DEBTOR), date(2026, 9, 30)) == (0, date(2026, 9, 30))
    assert next_level_date(invoice(), courtesy.for_debtor(risky), date(2026, 9, 30)) == (1, date(2026, 10, 5))


def test_a_policy_without_the_high_risk_segment_treats_high_risk_like_anyone():
    from dataclasses import replace

    risky = Debtor(account="411R", name="R", email="r@r.example.com", risk_class="high")
    plain = replace(POLICY, segments=())
    decision = decide(risky, [invoice()], today=date(2026, 10, 5), policy=plain.for_debtor(risky))
    assert decision.channels == ("email",)


def test_a_debtor_without_e_mail_is_chased_by_letter_and_the_reason_says_so():
    decision = decide(Debtor("411X", "X"), [invoice()], today=date(2026, 10, 5), policy=POLICY)
    assert (decision.action, decision.level, decision.channels) == (SEND, 1, ("letter",))
    assert decision.reason == "level 1 due, by letter: no usable e-mail address on file"
    later = decide(Debtor("411X", "X"), [invoice(sent={1: date(2026, 9, 20)})],
                   today=date(2026, 10, 5), policy=POLICY)
    assert later.channels == ("letter",)  # level 2's email + letter: the letter alone


def test_a_claim_born_after_the_opening_is_chased_and_the_earlier_one_is_not():
    # Opening judgment 1 Sept 2026. F1 issued 5 Sept (after): paid at maturity (C. com.
    # L622-17 I), chased like any claim. F0 issued 1 Aug (before): declared, not chased.
    debtor = Debtor("411X", "X", email="x@example.com",
                    collective_proceedings_since=date(2026, 9, 1))
    earlier = Invoice(number="F0", account="411X", issue_date=date(2026, 8, 1),
                      due_date=date(2026, 8, 31), amount=Decimal("500.00"),
                      open_amount=Decimal("500.00"))
    decision = decide(debtor, [earlier, invoice()], today=date(2026, 10, 5), policy=POLICY)
    assert decision.action == SEND and decision.level == 1
    assert decision.listed == ("F1",)


@pytest.mark.parametrize("case, sent, today, proceedings, expected", [
    ("no formal notice yet", {1: date(2026, 10, 5)}, date(2026, 11, 30), None, False),
    ("deadline's own day", {3: date(2026, 11, 2)}, date(2026, 11, 10), None, False),
    ("the day after the deadline", {3: date(2026, 11, 2)}, date(2026, 11, 11), None, True),
    # In collective proceedings since before the invoice was born: chased, not declared.
    ("born after the opening", {3: date(2026, 11, 2)}, date(2026, 11, 11), date(2026, 9, 1), True),
    ("born after, no deadline yet", {}, date(2026, 11, 11), date(2026, 9, 1), False),
    # Born before the opening: declared once overdue, whatever the ladder.
    ("to declare, overdue", {}, date(2026, 10, 6), date(2026, 10, 1), True),
    ("to declare, not yet due", {}, date(2026, 10, 5), date(2026, 10, 1), False),
])
def test_litigation_candidates_are_the_ladder_s_one_rule(case, sent, today, proceedings, expected):
    from recouvrement.domain.ladder import litigation_candidates

    debtor = Debtor(account="411DUPONT", name="Dupont", collective_proceedings_since=proceedings)
    found = litigation_candidates(debtor, [invoice(sent=sent)], today=today, policy=POLICY)
    assert bool(found) is expected, case


def test_paid_or_queued_invoices_are_never_candidates():
    from recouvrement.domain.ladder import litigation_candidates

    late = {3: date(2026, 11, 2)}
    paid = invoice(sent=late, open_amount="0.00")
    queued = invoice(number="F2", sent=late, in_litigation=True)
    assert litigation_candidates(DEBTOR, [paid, queued], today=date(2026, 12, 1), policy=POLICY) == []
