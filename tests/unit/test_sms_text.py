"""SMS texts: GSM-7, one SMS on realistic data, E.164 numbers, the hours they may go."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from recouvrement.adapters.channels.sms import NotAMobile, mobile_number, region_of
from recouvrement.adapters.channels.sms_text import render_sms
from recouvrement.domain import outbox_states as states
from recouvrement.domain.sms import is_gsm7, length, may_text_at, parts, to_gsm7
from recouvrement.adapters.mail.render import Creditor

LONG = Creditor(name="Établissements Dupré-Lefèvre Façades SAS", sender="r@x.example",
                iban="FR76 3000 6000 0112 3456 7890 189", phone="01 23 45 67 89")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind, consumer, amount", [
    ("courtesy", False, "1234567.89"), ("courtesy", True, "12345.67"),
    ("reminder", False, "1234567.89"), ("reminder", True, "12345.67"),
    ("formal_notice", False, "1234567.89"), ("formal_notice", True, "12345.67"),
])
def test_every_template_fits_one_gsm7_sms_with_a_long_name_and_a_big_amount(
        language, kind, consumer, amount):
    text = render_sms(kind=kind, language=language, creditor=LONG, amount=Decimal(amount),
                      currency="EUR", count=12, consumer=consumer, due=date(2026, 12, 24),
                      deadline=date(2026, 12, 24))
    # A consumer's formal notice carries the STOP mention too: with a 40-letter name, two SMS.
    assert is_gsm7(text) and parts(text) == (2 if kind == "formal_notice" and consumer else 1)
    if parts(text) == 2:
        shorter = render_sms(kind=kind, language=language, amount=Decimal(amount),
                             creditor=Creditor(name="Dupré-Lefèvre Façades SAS", sender="r@x",
                                               iban=LONG.iban), currency="EUR", count=12,
                             consumer=consumer, deadline=date(2026, 12, 24))
        assert length(shorter) <= 160, shorter
    assert "Dupré-Lefèvre Facades" in text and "FR7630006000011234567890189" in text
    assert "12" in text and ("STOP" in text) is consumer


def test_without_an_iban_the_text_says_whom_to_call():
    creditor = Creditor(name="Exemple SAS", sender="r@x.example", phone="01 23 45 67 89")
    text = render_sms(kind="reminder", language="fr", creditor=creditor,
                      amount=Decimal("1"), currency="EUR", count=1, consumer=False)
    assert text == "Exemple SAS: 1 facture impayée, 1,00 €. Paiement: 01 23 45 67 89."


def test_characters_outside_gsm7_are_spelled_within_it_and_the_euro_counts_two():
    assert to_gsm7("Façade Œuvre «Côté»") == 'Facade OEuvre "Coté"'
    assert length("10 €") == 5 and parts("a" * 160) == 1 and parts("a" * 161) == 2
    assert parts("漢" * 71) == 2  # no spelling: UCS-2, 70 a part


@pytest.mark.parametrize("phone, country, expected", [
    ("06 12 34 56 78", "FR", "+33612345678"), ("+33 7 81 23 45 67", None, "+33781234567"),
    ("0612345678", "France", "+33612345678"), ("06 91 23 45 67", "BE", None),
    ("0470 12 34 56", "Belgique", None), ("0470 12 34 56", "BE", "+32470123456"),
])
def test_numbers_are_normalised_to_e164_with_the_debtors_country(phone, country, expected):
    if expected is None:
        with pytest.raises(NotAMobile):
            mobile_number(phone, country)
    else:
        assert mobile_number(phone, country) == expected


@pytest.mark.parametrize("phone, why", [("01 42 68 53 00", "landline"), ("", "no phone"),
                                        ("06 12", "not a valid"), ("abc", "not a phone")])
def test_a_landline_or_a_bad_number_is_refused_with_its_reason(phone, why):
    with pytest.raises(NotAMobile, match=why):
        mobile_number(phone, "FR")


def test_a_country_name_the_export_wrote_is_understood():
    assert region_of("FRA") == region_of("fr") == region_of(None) == "FR"
    assert region_of("Germany") == "DE" and region_of("Atlantis") == "FR"


@pytest.mark.parametrize("moment, ok", [
    (datetime(2026, 11, 2, 8, 0), True), (datetime(2026, 11, 2, 19, 59), True),
    (datetime(2026, 11, 2, 20, 0), False), (datetime(2026, 11, 2, 7, 59), False),
    (datetime(2026, 11, 7, 10, 0), False), (datetime(2026, 12, 25, 10, 0), False),
])
def test_sms_go_on_business_days_from_8_to_20(moment, ok):
    assert may_text_at(moment) is ok


def test_the_transition_table_allows_what_it_says_and_nothing_else():
    assert states.step("planned", "claim") == "sending"
    assert states.step("sending", "permanent") == "needs_attention"
    assert states.step("sending", "released", before="failed") == "failed"
    assert states.step("needs_attention", "retried") == "planned"
    with pytest.raises(states.IllegalTransition):
        states.step("sent", "claim")
    with pytest.raises(states.IllegalTransition):
        states.step("planned", "delivered")
    assert states.after_failure(5, 5, False) == "exhausted"
    assert states.after_failure(1, 5, True) == "permanent"


@pytest.mark.parametrize("deliveries, status", [
    ({"email": "sent", "letter": "planned"}, "planned"),
    ({"email": "sent", "letter": "failed"}, "failed"),
    ({"email": "sent", "letter": "needs_attention"}, "needs_attention"),
    ({"email": "skipped", "letter": "sent"}, "sent"),
    ({"email": "cancelled", "sms": "cancelled"}, "cancelled"),
    ({"sms": "skipped"}, "needs_attention"),
    ({"email": "sending", "sms": "sent"}, "sending"),
    ({"email": "sent", "sms": "cancelled"}, "sent"),
    # What carries the reminder went: an SMS beside it holds up nothing.
    ({"email": "sent", "sms": "planned"}, "sent"),
    ({"email": "sent", "sms": "failed"}, "sent"),
    ({"email": "sent", "sms": "needs_attention", "phone": "sent"}, "sent"),
    ({"email": "failed", "sms": "sent"}, "failed"),
    ({"email": "sent", "letter": "planned", "sms": "sent"}, "planned"),
])
def test_a_reminder_reads_its_status_off_its_deliveries(deliveries, status):
    assert states.reminder_status(list(deliveries.items())) == status
