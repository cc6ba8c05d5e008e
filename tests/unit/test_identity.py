"""The creditor's identity a real run needs, and the pure rules of an agency's letters."""

from __future__ import annotations

from datetime import date

import pytest

from recouvrement.domain.identity import (
    L111_8_PARAGRAPHS_2_3,
    SentLetter,
    display_siren,
    first_contact,
    first_letter,
    iban_problem,
    identity_check,
    siren_problem,
    sender_problem,
)

COMPLETE = {"name": "Créancier Test SAS", "legal_form": "SAS", "siren": "123456782",
            "address": "10 avenue des Tests\n75011 Paris", "iban": "FR76 3000 6000 0112 3456 7890 189",
            "bic": "AGRIFRPP", "phone": "01 23 45 67 89", "sender": "relances@creancier.example.com",
            "agency_address": None}


# (value, problem expected or None)
SIRENS = [
    ("123456782", None),  # Luhn from the right: 2+7+7+3+5+8+3+4+1 = 40, a multiple of 10
    ("123 456 782", None),  # spaces as people write it
    ("732.829.320", None),
    ("12345678200017", None),  # a SIRET: its first 9 digits
    ("123456789", "check digit"),  # sum 47
    ("12345678", "not 9 digits"),
    ("ABCDEFGHI", "not 9 digits"),
]


@pytest.mark.parametrize("value, problem", SIRENS)
def test_siren_is_nine_digits_with_a_luhn_check_digit(value, problem):
    found = siren_problem(value)
    assert (found is None) if problem is None else (problem in found)


# (value, problem expected or None)
IBANS = [
    ("FR76 3000 6000 0112 3456 7890 189", None),  # 3000...189FR76 mod 97 = 1
    ("fr7630006000011234567890189", None),  # case and spaces do not matter
    ("DE89 3704 0044 0532 0130 00", None),
    ("FR77 3000 6000 0112 3456 7890 189", "check digits"),  # one digit off: mod 97 = 2
    ("FR76 3000", "not an IBAN"),
    ("30006000011234567890189", "not an IBAN"),
]


@pytest.mark.parametrize("value, problem", IBANS)
def test_iban_passes_its_mod_97_check(value, problem):
    found = iban_problem(value)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("value, refused", [
    ("relances@example.invalid", True),  # the default: a domain that never receives mail
    ("Relances <relances@creancier.invalid>", True),
    ("relances@creancier.example.com", False),
    ("Service recouvrement <relances@creancier.fr>", False),
])
def test_a_sender_under_invalid_is_refused(value, refused):
    assert (sender_problem(value) is not None) is refused


# (what is changed in a complete identity, agency mode, settings refused, settings warned of)
CHECKS = [
    ({}, False, [], []),
    ({"name": None}, False, ["RECOUVREMENT_CREDITOR_NAME"], []),
    ({"name": "  "}, False, ["RECOUVREMENT_CREDITOR_NAME"], []),
    ({"legal_form": None, "siren": None, "address": None}, False,
     ["RECOUVREMENT_CREDITOR_LEGAL_FORM", "RECOUVREMENT_CREDITOR_SIREN",
      "RECOUVREMENT_CREDITOR_ADDRESS"], []),
    ({"siren": "123456789"}, False, ["RECOUVREMENT_CREDITOR_SIREN"], []),  # set, but wrong
    ({"iban": None}, False, ["RECOUVREMENT_CREDITOR_IBAN"], []),
    ({"iban": "FR77 3000 6000 0112 3456 7890 189"}, False, ["RECOUVREMENT_CREDITOR_IBAN"], []),
    ({"sender": "relances@example.invalid"}, False, ["RECOUVREMENT_SENDER"], []),
    # How to reach and pay the creditor better: said, not refused.
    ({"bic": None, "phone": None}, False, [],
     ["RECOUVREMENT_CREDITOR_BIC", "RECOUVREMENT_CREDITOR_PHONE"]),
    # An agency's letter names the agency's address (R124-4, 1°).
    ({}, True, ["RECOUVREMENT_AGENCY_ADDRESS"], []),
    ({"agency_address": "5 quai de Seine\n75019 Paris"}, True, [], []),
]


@pytest.mark.parametrize("change, agency, refused, warned", CHECKS)
def test_identity_check_names_each_setting_missing(change, agency, refused, warned):
    check = identity_check({**COMPLETE, **change}, agency=agency)
    assert list(check.missing_settings) == refused
    assert [line.split(" ")[0] for line in check.missing] == refused
    assert [line.split(" ")[0] for line in check.warnings] == warned
    assert check.complete is (not refused)
    for line in check.missing + check.warnings:
        assert ": " in line  # each says why, with its source


def test_nothing_set_refuses_every_required_setting():
    check = identity_check({}, agency=False)
    assert check.missing_settings == (
        "RECOUVREMENT_CREDITOR_NAME", "RECOUVREMENT_CREDITOR_LEGAL_FORM",
        "RECOUVREMENT_CREDITOR_SIREN", "RECOUVREMENT_CREDITOR_ADDRESS",
        "RECOUVREMENT_CREDITOR_IBAN", "RECOUVREMENT_SENDER")


@pytest.mark.parametrize("value, shown", [("123456782", "123 456 782"),
                                           ("12345678200017", "123 456 782"),
                                           (None, None), ("", None)])
def test_siren_is_printed_in_groups_of_three(value, shown):
    assert display_siren(value) == shown


# --- the first letter and the first contact --------------------------------------------------

L1 = SentLetter(date(2026, 10, 2), "<a@x.example>", ("F1",))
L1_OTHER = SentLetter(date(2026, 9, 1), "<old@x.example>", ("F0",))  # another debt, settled
L2 = SentLetter(date(2026, 10, 19), "<b@x.example>", ("F1", "F2"))

# (reminders sent, invoices listed now, first letter recalled)
FIRSTS = [
    ((), ("F1",), None),  # nothing sent: this letter is the first
    ((L1,), ("F1",), L1),
    ((L1, L2), ("F1", "F2"), L1),  # the earliest about these invoices
    ((L1, L2), ("F2",), L2),  # F2 was first chased by the second letter
    ((L1_OTHER, L1), ("F1",), L1),  # a letter about another debt is not recalled
    ((L1_OTHER,), ("F1",), None),
]


@pytest.mark.parametrize("sent, listed, expected", FIRSTS)
def test_first_letter_is_the_earliest_about_the_invoices_listed(sent, listed, expected):
    assert first_letter(sent, listed) == expected


@pytest.mark.parametrize("sent, expected", [((), True), ((L1_OTHER,), False), ((L1, L2), False)])
def test_first_contact_is_when_nothing_was_ever_sent(sent, expected):
    assert first_contact(sent) is expected


def test_l111_8_paragraphs_2_and_3_are_the_2014_wording_word_for_word():
    second, third = L111_8_PARAGRAPHS_2_3
    assert second.startswith("Les frais de recouvrement entrepris sans titre exécutoire")
    # loi n° 2014-344: "sauf disposition législative contraire" (not "prévue par la loi")
    assert second.endswith("Toute stipulation contraire est réputée non écrite, sauf disposition "
                           "législative contraire.")
    assert third == ("Cependant, le créancier qui justifie du caractère nécessaire des démarches "
                     "entreprises pour recouvrer sa créance peut demander au juge de l'exécution "
                     "de laisser tout ou partie des frais ainsi exposés à la charge du débiteur "
                     "de mauvaise foi.")
