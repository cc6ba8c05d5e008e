"""What every form of a letter says of the creditor, and of the agency writing for it (CPCE R124-4)."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest

from recouvrement.domain.identity import L111_8_PARAGRAPHS_2_3, SentLetter
from recouvrement.domain.model import Debtor, DebtorKind
from recouvrement.adapters.mail.render import Creditor, InvoiceRow, render_reminder

CREDITOR = Creditor(name="Créancier Test SAS", sender="relances@agence.example.com",
                    legal_form="SAS au capital de 10 000 €, RCS Paris", siren="123456782",
                    address="10 avenue des Tests\n75011 Paris", phone="01 23 45 67 89",
                    iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPP")
AGENCY = Creditor(**{**CREDITOR.__dict__, "agency": "Agence Recouvre & Co",
                     "agency_address": "5 quai de Seine\n75019 Paris"})
FIRST = SentLetter(date(2026, 10, 2), "<first0001@agence.example.com>", ("F1",))
ROW = InvoiceRow("F1", date(2026, 9, 1), date(2026, 10, 1), Decimal("1000.00"), Decimal("1000.00"),
                 "EUR", 30, Decimal("9.99"), Decimal("40.00"))
FORMS = [(language, form) for language in ("fr", "en") for form in ("text", "html", "letter")]


def words(rendered, form: str) -> str:
    """The form as a reader reads it: tags out, entities decoded, spaces collapsed."""
    body = rendered.text if form == "text" else html.unescape(re.sub(r"<[^>]+>", " ", rendered.html))
    return " ".join(body.replace("\u202f", " ").replace("\u00a0", " ").split())


def render(creditor=AGENCY, *, level=1, language="fr", form="text", kind=DebtorKind.B2B, **kw):
    debtor = Debtor(account="411A", name="Client SARL", language=language, kind=kind,
                    address="1 rue du Client", postcode="75001", city="Paris")
    fee = Decimal("0") if kind is DebtorKind.B2C else ROW.fixed_fee
    row = InvoiceRow(**{**ROW.__dict__, "fixed_fee": fee})
    kw.setdefault("message_id", "<this0001@agence.example.com>")
    return render_reminder(level=level, debtor=debtor, invoices=[row], as_of=date(2026, 10, 31),
                           creditor=creditor, deadline=date(2026, 11, 8) if level == 3 else None,
                           letter=form == "letter", **kw)


def test_the_text_e_mail_puts_the_creditor_s_name_and_address_on_lines_of_their_own():
    lines = render(CREDITOR).text.splitlines()
    # The name ran into the address ("Créancier Test SASSAS…10 avenue…") before.
    assert lines[:4] == ["Créancier Test SAS, SAS au capital de 10 000 €, RCS Paris",
                         "SIREN 123 456 782", "10 avenue des Tests", "75011 Paris"]
    agency = render(AGENCY).text.splitlines()
    assert agency[:8] == ["Agence Recouvre & Co", "5 quai de Seine", "75019 Paris",
                          "Recouvrement amiable de créances, pour le compte de :",
                          "Créancier Test SAS, SAS au capital de 10 000 €, RCS Paris",
                          "SIREN 123 456 782", "10 avenue des Tests", "75011 Paris"]


@pytest.mark.parametrize("language, form", FORMS)
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_every_form_names_the_creditor_with_its_legal_form_siren_and_address(language, form, level):
    text = words(render(CREDITOR, level=level, language=language, form=form), form)
    for mention in ("Créancier Test SAS", "SAS au capital de 10 000 €, RCS Paris",
                    "123 456 782", "10 avenue des Tests", "75011 Paris",
                    "FR76 3000 6000 0112 3456 7890 189"):
        assert mention in text, mention
    assert "L111-8" not in text and "RGPD" not in text and "GDPR" not in text


@pytest.mark.parametrize("language, form", FORMS)
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_every_form_of_an_agency_letter_carries_the_r124_4_mentions(language, form, level):
    later = level >= 2
    text = words(render(level=level, language=language, form=form,
                        first_letter=FIRST if later else None, first_contact=not later), form)
    # 1° the agency, its address, that it collects debts out of court
    for mention in ("Agence Recouvre & Co", "5 quai de Seine", "75019 Paris"):
        assert mention in text, mention
    assert ("recouvrement amiable" if language == "fr" else "debt collection agency") in text
    # 2° the creditor and its address
    for mention in ("Créancier Test SAS", "10 avenue des Tests", "75011 Paris"):
        assert mention in text, mention
    # 3° basis and amount, principal, interest and fees apart
    assert "L441-10" in text and "9,99 €" in text or "€9.99" in text
    assert "1 049,99 €" in text or "€1,049.99" in text
    # 4° how to pay
    assert "FR76 3000 6000 0112 3456 7890 189" in text
    # 5° L111-8, paragraphs 2 and 3, word for word (in French, whatever the letter's language)
    for paragraph in L111_8_PARAGRAPHS_2_3:
        assert paragraph in text
    # its own reference, and the first letter's date and reference in each later one
    assert "this0001@agence.example.com" in text
    recalled = "first0001@agence.example.com" in text
    assert recalled is later
    if later:
        assert ("02/10/2026" if language == "fr" else "2 Oct 2026") in text
    # the GDPR notice at the first contact only
    notice = "RGPD, article 14" if language == "fr" else "GDPR, article 14"
    assert (notice in text) is (not later)


@pytest.mark.parametrize("language, form", FORMS)
def test_the_gdpr_notice_says_controller_purpose_basis_retention_rights_and_source(language, form):
    text = words(render(language=language, form=form, first_contact=True), form)
    expected = (["responsable du traitement", "recouvrer cette créance", "6, paragraphe 1, f",
                 "trois ans après le dernier contact", "rectifier", "CNIL",
                 "proviennent de la comptabilité de Créancier Test SAS"] if language == "fr" else
                ["the controller", "to collect this claim", "6(1)(f)",
                 "three years after the last contact", "rectify", "CNIL",
                 "come from the accounts of Créancier Test SAS"])
    for mention in expected:
        assert mention in text, mention


@pytest.mark.parametrize("language, form", FORMS)
def test_an_agency_s_formal_notice_says_the_creditor_would_sue_not_the_agency(language, form):
    text = words(render(level=3, language=language, form=form, first_letter=FIRST), form)
    if language == "fr":
        assert "Créancier Test SAS, votre créancier, pourra engager" in text
        assert "n'agit pas elle-même en justice" in text
        assert "nous engagerons" not in text
    else:
        assert "Créancier Test SAS, your creditor, may take legal action" in text
        assert "we will take legal action" not in text
    own = words(render(CREDITOR, level=3, language=language, form=form), form)
    assert ("nous engagerons" if language == "fr" else "we will take legal action") in own


def test_an_agency_asks_for_the_whole_sum_due_at_every_level():
    text = words(render(level=1), "text")
    assert "règlement de la somme de 1 049,99 €" in text


def test_a_consumer_s_agency_letter_gives_the_civil_code_as_the_interest_s_basis():
    text = words(render(kind=DebtorKind.B2C, first_contact=True), "text")
    assert "pour les intérêts de retard, l'article 1231-6 du Code civil" in text
    assert "L441-10" not in text
