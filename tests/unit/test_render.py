"""Reminder rendering and the MIME message: wording per level and language, formats, escaping, headers."""

from __future__ import annotations

import email.policy
import re
from datetime import date
from decimal import Decimal
from email.parser import BytesParser

import pytest

from recouvrement.domain.model import Debtor, DebtorKind
from recouvrement.adapters.mail.mailer import FakeMailer, PermanentSendError, TransientSendError
from recouvrement.adapters.mail.render import (
    Creditor,
    InvoiceRow,
    RenderedReminder,
    build_email,
    format_amount,
    format_date,
    make_message_id,
    render_reminder,
)

AS_OF = date(2026, 11, 22)
DEADLINE = date(2026, 11, 30)
NNBSP, NBSP = "\u202f", "\u00a0"
CREDITOR = Creditor(name="Outillage Durand SAS", sender="relances@durand.example.com",
                    phone="01 23 45 67 89", iban="FR76 3000 6000 0112 3456 7890 189",
                    bic="AGRIFRPP", address="12 rue de la Paix\n75002 Paris")
HOSTILE_NAME = "<script>alert(1)</script> & Fils"


def debtor(kind: DebtorKind = DebtorKind.B2B, language: str = "fr", name: str = "Dupont SARL"):
    return Debtor(account="411DUPONT", name=name, kind=kind, email="compta@dupont.example.fr",
                  language=language)


def row(number: str = "F2026-0042", open_amount: str = "1200.00", *, claim: bool = False,
        kind: DebtorKind = DebtorKind.B2B, interest: str = "18.37") -> InvoiceRow:
    fee = None
    if claim:
        fee = Decimal("0.00") if kind is DebtorKind.B2C else Decimal("40.00")
    return InvoiceRow(number=number, issue_date=date(2026, 9, 7), due_date=date(2026, 10, 7),
                      amount=Decimal("1500.00"), open_amount=Decimal(open_amount), currency="EUR",
                      days_late=46, interest=Decimal(interest) if claim else None, fixed_fee=fee)


def render(level: int, *, language: str = "fr", kind: DebtorKind = DebtorKind.B2B,
           name: str = "Dupont SARL", rows=None, creditor: Creditor = CREDITOR, **kwargs):
    rows = rows if rows is not None else [row(claim=level == 3, kind=kind)]
    kwargs.setdefault("deadline", DEADLINE if level == 3 else None)
    return render_reminder(level=level, debtor=debtor(kind, language, name), invoices=rows,
                           as_of=AS_OF, creditor=creditor, **kwargs)


# --- each level, in each language ------------------------------------------------------

# (language, level, words the subject and both bodies must carry, words they must not)
WORDING = [
    ("fr", 0, "Avis d'échéance", "retard"),
    ("fr", 1, "Rappel de paiement", "mise en demeure"),
    ("fr", 2, "Deuxième relance", "Payment"),
    ("fr", 3, "Mise en demeure", "Payment"),
    ("en", 0, "Upcoming due date", "overdue"),
    ("en", 1, "Payment reminder", "formal notice"),
    ("en", 2, "Second reminder", "Rappel"),
    ("en", 3, "Formal notice to pay", "Rappel"),
]


@pytest.mark.parametrize("language, level, title, absent", WORDING)
def test_each_level_renders_in_its_language(language, level, title, absent):
    rendered = render(level, language=language)

    assert rendered.subject.startswith(title)
    assert CREDITOR.name in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "F2026-0042" in body
        assert absent.lower() not in body.lower()
    assert title.upper() in rendered.text
    assert f'<html lang="{language}">' in rendered.html
    assert "<table" in rendered.html and "<script" not in rendered.html


@pytest.mark.parametrize("language, phrase", [("fr", "premier rappel"), ("en", "first reminder")])
def test_second_reminder_refers_to_the_first(language, phrase):
    rendered = render(2, language=language)
    assert phrase in rendered.text and phrase in rendered.html


@pytest.mark.parametrize("language, deadline, legal_action", [
    ("fr", "30/11/2026", "nous engagerons sans autre avis une procédure judiciaire"),
    ("en", "30 Nov 2026", "we will take legal action to recover these sums without further notice"),
])
def test_formal_notice_states_deadline_and_legal_action(language, deadline, legal_action):
    rendered = render(3, language=language)
    for body in (rendered.text, rendered.html):
        assert f"{deadline}" in body
        assert legal_action in body


def test_formal_notice_without_deadline_is_refused():
    with pytest.raises(ValueError, match="deadline"):
        render(3, deadline=None)


@pytest.mark.parametrize("language, header", [("fr", "Retard (jours)"), ("en", "Days overdue")])
def test_courtesy_notice_has_no_days_late_column(language, header):
    assert header not in render(0, language=language).html
    assert header in render(1, language=language).html


@pytest.mark.parametrize("code, expected", [("en", "en"), ("EN", "en"), ("en-GB", "en"),
                                            ("fr", "fr"), ("de", "fr"), ("", "fr")])
def test_language_english_only_for_english_debtors(code, expected):
    assert f'<html lang="{expected}">' in render(1, language=code).html


# --- debtor-supplied text never executes --------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_debtor_name_is_escaped_in_html(level):
    rendered = render(level, name=HOSTILE_NAME)

    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Fils" in rendered.html
    assert "<script>" not in rendered.html
    assert HOSTILE_NAME in rendered.text  # plain text shows it as it is: nothing to execute


def test_hostile_invoice_number_and_creditor_name_are_escaped_too():
    hostile = Creditor(name='Durand <img src=x onerror="alert(1)">', sender=CREDITOR.sender)
    rendered = render(1, creditor=hostile, rows=[row(number="<b>F1</b>")])
    assert "<img" not in rendered.html and "<b>F1" not in rendered.html
    assert "&lt;b&gt;F1&lt;/b&gt;" in rendered.html


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, currency, language, expected", [
    ("1234.56", "EUR", "fr", f"1{NNBSP}234,56{NBSP}€"),
    ("1234.56", "EUR", "en", "€1,234.56"),
    ("1234567", "EUR", "fr", f"1{NNBSP}234{NNBSP}567,00{NBSP}€"),
    ("0.005", "EUR", "fr", f"0,01{NBSP}€"),  # half-up to the cent
    ("12.3", "USD", "fr", f"12,30{NBSP}USD"),
    ("1234.5", "usd", "en", f"USD{NBSP}1,234.50"),
    ("-40", "EUR", "en", "-€40.00"),
])
def test_amount_format(amount, currency, language, expected):
    assert format_amount(Decimal(amount), currency, language) == expected


@pytest.mark.parametrize("day, language, expected", [
    (date(2026, 11, 22), "fr", "22/11/2026"),
    (date(2026, 1, 5), "fr", "05/01/2026"),
    (date(2026, 11, 22), "en", "22 Nov 2026"),
    (date(2026, 1, 5), "en", "5 Jan 2026"),
])
def test_date_format(day, language, expected):
    assert format_date(day, language) == expected


@pytest.mark.parametrize("language, amount, issued", [
    ("fr", f"1{NNBSP}200,00{NBSP}€", "07/09/2026"),
    ("en", "€1,200.00", "7 Sep 2026"),
])
def test_reminder_shows_localised_amounts_and_dates(language, amount, issued):
    rendered = render(1, language=language)
    for body in (rendered.text, rendered.html):
        assert amount in body and issued in body
        assert "1200.00" not in body and "2026-09-07" not in body


def test_totals_add_up_in_decimal():
    rows = [row("F1", "0.10"), row("F2", "0.20"), row("F3", "1000.005")]  # 1000.01 once rounded
    rendered = render(1, rows=rows, language="en")
    assert "€1,000.31" in rendered.text and "€1,000.31" in rendered.html


# --- the formal notice: principal, interest, fees -----------------------------------------


def test_b2b_formal_notice_splits_principal_interest_and_fees():
    rows = [row("F1", "1200.00", claim=True, interest="18.37"),
            row("F2", "300.00", claim=True, interest="1.63")]
    rendered = render(3, rows=rows)
    text = rendered.text
    assert f"Principal restant dû : 1{NNBSP}500,00{NBSP}€" in text
    assert f"Intérêts de retard arrêtés au 22/11/2026 : 20,00{NBSP}€" in text
    assert f"Indemnités forfaitaires pour frais de recouvrement : 80,00{NBSP}€" in text
    assert f"TOTAL DÛ : 1{NNBSP}600,00{NBSP}€" in text
    assert "Indemnité forfaitaire</th>" in rendered.html
    assert "D441-5" in text
    assert f"1{NNBSP}600,00{NBSP}€" in rendered.subject


@pytest.mark.parametrize("language, fee_words", [("fr", "indemnit"), ("en", "fee")])
def test_b2c_formal_notice_has_no_fee_line(language, fee_words):
    rows = [row("F1", "1200.00", claim=True, kind=DebtorKind.B2C, interest="0.00")]
    rendered = render(3, kind=DebtorKind.B2C, language=language, rows=rows)
    for body in (rendered.text, rendered.html):
        assert fee_words not in body.lower()
        assert "1231-6" in body  # interest at the legal rate runs from the notice
    assert ("€1,200.00" if language == "en" else f"1{NNBSP}200,00{NBSP}€") in rendered.subject


def test_fee_for_a_consumer_is_refused():
    rows = [row("F1", claim=True, kind=DebtorKind.B2B)]  # carries a 40 € fee
    with pytest.raises(ValueError, match="consumer"):
        render(3, kind=DebtorKind.B2C, rows=rows)


def test_payment_instructions_come_from_the_creditor():
    rendered = render(1, rows=[row("F1"), row("F2")])
    assert "FR76 3000 6000 0112 3456 7890 189" in rendered.text
    assert "AGRIFRPP" in rendered.html
    assert "Référence à indiquer : F1, F2" in rendered.text
    bare = render(1, creditor=Creditor(name="Durand", sender="relances@durand.example.com"))
    assert "IBAN" not in bare.text and "IBAN" not in bare.html


# --- subject -----------------------------------------------------------------------------------


def test_subject_has_no_line_breaks():
    creditor = Creditor(name="Durand\r\nBcc: victim@example.com", sender=CREDITOR.sender)
    subject = render(1, creditor=creditor).subject
    assert "\r" not in subject and "\n" not in subject
    assert subject == subject.strip()


def test_a_creditor_folder_overrides_a_template(tmp_path):
    own = tmp_path / "email" / "fr"
    own.mkdir(parents=True)
    (own / "level1.txt").write_text(
        '{% extends "email/fr/base.txt" %}\n{% block subject %}\nNotre rappel\n{% endblock %}\n'
        '{% block intro %}Texte propre au créancier.{% endblock %}\n', encoding="utf-8")
    from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES

    rendered = render(1, templates_dir=[tmp_path, DEFAULT_TEMPLATES])
    assert rendered.subject == "Notre rappel"
    assert "Texte propre au créancier." in rendered.text
    assert "Rappel de paiement" in rendered.html  # not overridden: the default one


# --- the MIME message ---------------------------------------------------------------------------

MESSAGE_ID = make_message_id("reminder-key-1", "durand.example.com")


def message(**overrides):
    rendered = overrides.pop("rendered", render(1, name=HOSTILE_NAME))
    kwargs = dict(sender="Outillage Durand <relances@durand.example.com>",
                  to="compta@dupont.example.fr", debtor_account="411DUPONT", level=1,
                  invoice_numbers=["F2026-0042", "F2026-0043"], message_id=MESSAGE_ID)
    kwargs.update(overrides)
    return build_email(rendered, **kwargs)


def test_build_email_headers_present_once():
    msg = message()
    for name in ("From", "To", "Subject", "Date", "Message-ID", "X-Recouvrement-Debtor",
                 "X-Recouvrement-Level", "X-Recouvrement-Invoices"):
        assert len(msg.get_all(name, [])) == 1, name
    assert msg["Message-ID"] == MESSAGE_ID
    assert msg["X-Recouvrement-Debtor"] == "411DUPONT"
    assert msg["X-Recouvrement-Level"] == "1"
    assert msg["X-Recouvrement-Invoices"] == "F2026-0042,F2026-0043"
    assert msg.as_string().count("Message-ID:") == 1


def test_build_email_has_a_real_text_part_and_an_html_part():
    rendered = render(1, name=HOSTILE_NAME)
    msg = message(rendered=rendered)
    assert msg.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in msg.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert parts["text/plain"] == rendered.text
    assert "<p" not in parts["text/plain"] and "<table" not in parts["text/plain"]
    assert parts["text/html"] == rendered.html
    assert str(msg["Subject"]) == rendered.subject


def test_bodies_that_look_like_mime_boundaries_survive_the_wire():
    """The boundary is fixed, not searched for: text that imitates one must not cut a part."""
    boundary = message().get_boundary()  # the same for the same Message-ID
    tricky = f"--{boundary}\n=_ =_=_ --\n.\n--{boundary}--\n"
    first = message(rendered=RenderedReminder("Rappel", "Bonjour\n" + tricky, f"<p>{tricky}</p>"))
    second = message(rendered=RenderedReminder("Relance", "Madame,", "<p>Madame,</p>"),
                     to="autre@dupont.example.fr", message_id=make_message_id("k2", "d.example"))
    for sent, text in ((first, "Bonjour\n" + tricky), (second, "Madame,")):
        back = BytesParser(policy=email.policy.default).parsebytes(sent.as_bytes())
        parts = {part.get_content_type(): part.get_content() for part in back.iter_parts()}
        assert parts["text/plain"].rstrip("\n") == text.rstrip("\n")
        assert back["To"] == sent["To"] and back["Message-ID"] == sent["Message-ID"]
    assert first.get_boundary() != second.get_boundary()


@pytest.mark.parametrize("field, overrides", [
    ("sender", {"sender": "relances@durand.example.com\r\nBcc: victim@example.com"}),
    ("to", {"to": "compta@dupont.example.fr\nBcc: victim@example.com"}),
    ("debtor_account", {"debtor_account": "411DUPONT\r\nX-Evil: 1"}),
    ("subject", {"rendered": RenderedReminder("Rappel\r\nBcc: victim@example.com", "t", "<p>h</p>")}),
    ("invoice_numbers", {"invoice_numbers": ["F1", "F2\nBcc: victim@example.com"]}),
    ("message_id", {"message_id": "<a@b.example>\r\nBcc: victim@example.com"}),
])
def test_build_email_refuses_line_breaks(field, overrides):
    with pytest.raises(ValueError, match=field):
        message(**overrides)


@pytest.mark.parametrize("to", ["not-an-address", "compta@dupont", "compta dupont@example.fr",
                                "a@example.fr, b@example.fr", "Dupont <compta@dupont.example.fr>",
                                "@example.fr", "compta@@example.fr", ""])
def test_build_email_refuses_implausible_recipient(to):
    with pytest.raises(ValueError, match="to"):
        message(to=to)


def test_make_message_id_is_stable_per_key():
    again = make_message_id("reminder-key-1", "durand.example.com")
    other = make_message_id("reminder-key-2", "durand.example.com")
    assert again == MESSAGE_ID and other != MESSAGE_ID
    assert re.fullmatch(r"<[^<>@\s]+@durand\.example\.com>", MESSAGE_ID)
    with pytest.raises(ValueError, match="domain"):
        make_message_id("k", "durand.example.com\r\nBcc: x")


# --- the fake mailer the other unit tests use ---------------------------------------------------


def test_fake_mailer_records_and_raises_scripted_errors():
    mailer = FakeMailer({"compta@dupont.example.fr": TransientSendError("451 later")})
    mailer.fail("other@dupont.example.fr", PermanentSendError("550 unknown"))
    with mailer:
        with pytest.raises(TransientSendError):
            mailer.send(message())
        mailer.send(message())  # the scripted error was used up
        with pytest.raises(PermanentSendError):
            mailer.send(message(to="other@dupont.example.fr"))
    assert [m["To"] for m in mailer.sent] == ["compta@dupont.example.fr"]
    assert len(mailer.attempts) == 3 and mailer.connections == 1
    with pytest.raises(RuntimeError):
        mailer.send(message())


@pytest.mark.parametrize("language", ["fr", "en"])
def test_agency_mode_names_agency_and_creditor_splits_the_debt_and_quotes_l111_8(language):
    from recouvrement.domain.model import Debtor as D

    agency = Creditor(name="Durand Industrie SA", sender="relances@agence.example.com",
                      agency="Agence Recouvre & Co", agency_address="5 quai de Seine\n75019 Paris")
    debtor = D(account="411A", name="Client SARL", language=language)
    rows = [InvoiceRow("F1", date(2026, 9, 1), date(2026, 10, 1), Decimal("1000.00"),
                       Decimal("1000.00"), "EUR", 30, Decimal("9.99"), Decimal("40.00"))]
    mail = render_reminder(level=1, debtor=debtor, invoices=rows, as_of=date(2026, 10, 31),
                           creditor=agency)
    for part in (mail.text, mail.html):
        assert "Agence Recouvre &amp; Co" in part or "Agence Recouvre & Co" in part
        assert "Durand Industrie SA" in part
        assert "L111-8" in part and "restent à la charge du créancier" in part
        assert "9,99" in part or "9.99" in part  # interest shown already at level 1
    plain = render_reminder(level=1, debtor=debtor, invoices=rows, as_of=date(2026, 10, 31),
                            creditor=Creditor(name="Durand Industrie SA", sender="r@d.example.com"))
    assert "L111-8" not in plain.text and "Agence" not in plain.html


# --- what the policy says of the level: its template, formal notice, registered ----------

@pytest.mark.parametrize("level, template, registered, title, mention", [
    # a two-level policy's level 2 is its formal notice: the formal notice's wording
    (2, "level3", True, "Mise en demeure de payer", True),
    (2, "level2", False, "Deuxième relance", False),  # a second reminder sent unregistered
    (1, "level1", True, "Rappel", True),               # a policy registering its first letter
])
def test_the_letter_follows_what_the_policy_says_of_its_level(level, template, registered,
                                                              title, mention):
    formal = template == "level3"
    letter = render(level, template=template, formal_notice=formal, registered=registered,
                    deadline=DEADLINE if formal else None, letter=True,
                    rows=[row(claim=formal)])
    assert title.lower() in letter.subject.lower() + letter.html.lower()
    assert ("Lettre recommandée avec accusé de réception" in letter.html) is mention
    if formal:
        assert "30/11/2026" in letter.text and "40,00" in letter.text


def test_a_formal_notice_of_any_level_needs_its_deadline():
    with pytest.raises(ValueError, match=r"formal notice \(level 2\) needs a deadline"):
        render(2, template="level3", formal_notice=True, registered=True)
