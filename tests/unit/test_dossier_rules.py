"""A dossier's readiness and its life in the queue, as tables."""

from __future__ import annotations

from datetime import date

import pytest

from recouvrement.domain.dossier import (
    Candidate,
    Identity,
    TransitionError,
    after_close,
    after_export,
    after_handover,
    check_readiness,
    identity_problems,
)
from recouvrement.domain.model import DebtorKind

TODAY = date(2026, 11, 4)
COMPANY = Identity(name="Dupont SARL", kind=DebtorKind.B2B, siren="732829320",
                   address="1 rue de la Paix", postcode="75002", city="Paris")


def candidate(number="F1", **kw) -> Candidate:
    values = dict(issue_date=date(2026, 9, 1), limitation_start=None,
                  notice_proof="<n@example.com>", last_seen_on=TODAY)
    values.update(kw)
    return Candidate(number, **values)


@pytest.mark.parametrize("status, expected", [
    ("queued", "exported"), ("exported", "exported"), ("with_bailiff", "with_bailiff"),
    ("closed", "closed")])
def test_export(status, expected):
    assert after_export(status) == expected


@pytest.mark.parametrize("status, to, expected", [
    ("exported", "bailiff", "with_bailiff"), ("exported", "lawyer", "with_lawyer"),
    ("with_bailiff", "lawyer", "with_lawyer"), ("with_lawyer", "bailiff", "with_bailiff"),
    ("queued", "lawyer", "export the dossier first"), ("closed", "lawyer", "closed"),
    ("exported", "notary", "bailiff or a lawyer")])
def test_handover(status, to, expected):
    if expected.startswith("with_"):
        assert after_handover(status, to) == expected
    else:
        with pytest.raises(TransitionError, match=expected):
            after_handover(status, to)


@pytest.mark.parametrize("status", ["queued", "exported", "with_bailiff", "with_lawyer"])
@pytest.mark.parametrize("outcome", ["paid", "settled", "judgment", "abandoned"])
def test_any_open_dossier_closes_with_an_outcome(status, outcome):
    assert after_close(status, outcome) == "closed"


@pytest.mark.parametrize("status, outcome, expected", [
    ("closed", "paid", "already closed"), ("queued", "won", "outcome must be one of")])
def test_close_refused(status, outcome, expected):
    with pytest.raises(TransitionError, match=expected):
        after_close(status, outcome)


@pytest.mark.parametrize("changes, expected", [
    ({}, []),
    ({"siren": None}, ["SIREN"]),
    ({"siren": "12345"}, ["SIREN"]),
    ({"siren": "732 829 320"}, []),
    ({"kind": DebtorKind.B2C, "siren": None}, []),
    ({"city": ""}, ["postal address"]),
    ({"name": " ", "postcode": None}, ["no debtor name", "postal address"]),
])
def test_identity_a_court_form_needs(changes, expected):
    who = Identity(**{**COMPANY.__dict__, **changes})
    problems = identity_problems(who)
    assert len(problems) == len(expected)
    assert all(word in problem for word, problem in zip(expected, problems))


@pytest.mark.parametrize("changes, reason", [
    ({"disputed": True}, "disputed"),
    ({"paused": "payment plan honoured"}, "dunning paused: payment plan honoured"),
    ({"notice_proof": None}, "no proof of the formal notice"),
    ({"notice_proof": ""}, "no proof of the formal notice"),
    ({"last_seen_on": date(2026, 11, 3)}, "not in the newest export of 2026-11-04"),
    # B2B: five years from the invoice date (C. com. L110-4)
    ({"issue_date": date(2021, 11, 3)}, "prescribed since 2026-11-04"),
    # ... or from the last partial payment, which restarts it
    ({"issue_date": date(2021, 1, 1), "limitation_start": date(2021, 11, 3)},
     "prescribed since 2026-11-04"),
])
def test_an_invoice_held_back_says_why(changes, reason):
    check = check_readiness(COMPANY, [candidate(**changes), candidate("F2")], today=TODAY,
                            newest_export=TODAY)
    assert check.ready == ("F2",)
    [why] = check.held["F1"]
    assert why.startswith(reason) or reason in why


def test_a_clean_invoice_is_ready_and_one_near_its_limitation_urgent():
    check = check_readiness(COMPANY, [candidate(), candidate("F2", issue_date=date(2021, 12, 1))],
                            today=TODAY, newest_export=TODAY)
    assert check.fully_ready and check.ready == ("F1", "F2")
    assert check.urgent == {"F2": date(2026, 12, 1)}


def test_a_consumer_has_two_years():
    consumer = Identity(**{**COMPANY.__dict__, "kind": DebtorKind.B2C, "siren": None})
    check = check_readiness(consumer, [candidate(issue_date=date(2024, 11, 3))], today=TODAY,
                            newest_export=TODAY)
    assert check.held["F1"][0].startswith("prescribed since 2026-11-04")


@pytest.mark.parametrize("newest, held", [
    (TODAY, False), (date(2026, 11, 1), False),  # Friday's export read on Monday... and more
    (date(2026, 10, 31), True), (None, True)])
def test_amounts_reconciled_with_a_recent_export(newest, held):
    check = check_readiness(COMPANY, [candidate(last_seen_on=newest)], today=TODAY,
                            newest_export=newest)
    assert bool(check.debtor_reasons) is held
    assert (check.ready == ()) is held


def test_a_debtor_problem_holds_every_invoice():
    who = Identity(**{**COMPANY.__dict__, "siren": None})
    check = check_readiness(who, [candidate(), candidate("F2", disputed=True)], today=TODAY,
                            newest_export=TODAY)
    assert check.ready == () and set(check.held) == {"F1", "F2"}
    assert check.held["F1"] == () and check.held["F2"] == (
        "disputed: the dispute must be closed first",)


def test_in_collective_proceedings_the_claim_is_declared_disputed_or_not():
    who = Identity(**{**COMPANY.__dict__, "collective_proceedings": True})
    check = check_readiness(who, [candidate(disputed=True, notice_proof=None)], today=TODAY,
                            newest_export=TODAY)
    assert check.ready == ("F1",)
