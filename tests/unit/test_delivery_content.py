"""What the dossier shows of a reminder, read from its deliveries' payloads."""

from __future__ import annotations

from recouvrement.queries.deliveries import Content, content, letter_html

EMAIL = {"recipient": "compta@dupont.example.com", "subject": "Relance F1",
         "body_text": "Madame, Monsieur,", "body_html": "<p>Madame, Monsieur,</p>",
         "wire": "From: x\r\n", "letter_html": "<p>Lettre de remplacement</p>"}
LETTER = {"letter_html": "<p>Lettre</p>", "subject": "Relance F1", "body_text": "Texte"}


def test_the_e_mail_says_what_a_reminder_said_when_it_has_one():
    assert content({"email": EMAIL, "letter": LETTER, "sms": {"text": "SMS"}}) == Content(
        "compta@dupont.example.com", "Relance F1", "Madame, Monsieur,",
        "<p>Madame, Monsieur,</p>")


def test_a_reminder_by_letter_alone_shows_its_letter_and_one_by_sms_its_text():
    assert content({"letter": LETTER, "phone": None}) == Content(
        None, "Relance F1", "Texte", "<p>Lettre</p>")
    assert content({"sms": {"text": "Rappel : 1 facture"}, "phone": None}) == Content(
        body_text="Rappel : 1 facture")


def test_an_erased_payload_says_nothing():
    assert content({"email": None, "letter": None}) == Content(None, "", "", "")


def test_the_letter_printed_is_the_letters_own_else_the_one_the_e_mail_keeps():
    assert letter_html([LETTER, EMAIL]) == "<p>Lettre</p>"
    assert letter_html([None, EMAIL]) == "<p>Lettre de remplacement</p>"
    assert letter_html([None, {"subject": "s"}]) is None
