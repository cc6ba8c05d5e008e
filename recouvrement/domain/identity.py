"""Who writes the reminders: the creditor's identity, what the law needs of it, and the
mentions a collection agency's letters carry.

Pure functions of the settings' values: no I/O. The settings layer reads them, the
`run` command and the daily flow ask `identity_check` before anything changes, and
refuse a real run that would send reminders without what a formal notice and a
claim need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

# --- what the law needs of the creditor's identity -------------------------------------------


@dataclass(frozen=True)
class Requirement:
    setting: str  # the environment variable (lower case without the prefix in the toml)
    field: str  # the key of the values checked
    why: str  # what needs it, and its source
    required: bool = True  # False: a warning only
    agency_only: bool = False


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("RECOUVREMENT_CREDITOR_NAME", "name",
                "the creditor's name opens every letter and is the claimant of the formal "
                "notice and of a payment order (Code de commerce R123-237; CPC 57 and 1407)"),
    Requirement("RECOUVREMENT_CREDITOR_LEGAL_FORM", "legal_form",
                "a company's legal form goes with its name on its letters and invoices "
                "(Code de commerce R123-238) and in a request to the court (CPC 57)"),
    Requirement("RECOUVREMENT_CREDITOR_SIREN", "siren",
                "the SIREN is printed on every letter and invoice of a registered business "
                "(Code de commerce R123-237, 1°)"),
    Requirement("RECOUVREMENT_CREDITOR_ADDRESS", "address",
                "the head office is printed on every letter (Code de commerce R123-237, 3°) "
                "and is where the debtor answers a formal notice; an agency's letter names "
                "it (CPCE R124-4, 2°)"),
    Requirement("RECOUVREMENT_CREDITOR_IBAN", "iban",
                "a reminder says how to pay (CPCE R124-4, 4°, for an agency; a debtor who "
                "cannot pay is not late by his own fault): the account to pay into"),
    Requirement("RECOUVREMENT_SENDER", "sender",
                "the From address must be one the debtor can answer: an address under "
                ".invalid never receives mail (RFC 6761)"),
    Requirement("RECOUVREMENT_AGENCY_ADDRESS", "agency_address",
                "an agency's letter gives the agency's address (CPCE R124-4, 1°)",
                agency_only=True),
    Requirement("RECOUVREMENT_CREDITOR_BIC", "bic",
                "the BIC helps a debtor paying from outside the SEPA area (within it the "
                "IBAN is enough, Regulation (EU) 260/2012 art. 5)", required=False),
    Requirement("RECOUVREMENT_CREDITOR_PHONE", "phone",
                "a phone number lets the debtor call instead of letting the claim go to court",
                required=False),
)


@dataclass(frozen=True)
class IdentityCheck:
    missing: tuple[str, ...]  # "SETTING (problem): why", each a refusal for a real run
    warnings: tuple[str, ...]  # "SETTING (problem): why", said and not refused
    missing_settings: tuple[str, ...] = ()  # the settings of `missing`, in the same order

    @property
    def complete(self) -> bool:
        return not self.missing


def siren_problem(value: str | None) -> str | None:
    """Why a SIREN is not one (9 digits, Luhn check digit; a SIRET gives its SIREN)."""
    digits = compact_siren(value)
    if not re.fullmatch(r"\d{9}", digits):
        return f"{value!r} is not 9 digits (or a 14-digit SIRET)"
    if luhn_sum(digits) % 10:
        return f"{value!r} fails its check digit (Luhn): a typing error?"
    return None


def compact_siren(value: str | None) -> str:
    digits = re.sub(r"[\s.\u00a0]", "", value or "")
    return digits[:9] if re.fullmatch(r"\d{14}", digits) else digits


def luhn_sum(digits: str) -> int:
    """The Luhn sum of a string of digits (a multiple of 10 when valid)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total


def iban_problem(value: str | None) -> str | None:
    """Why an IBAN is not one (ISO 13616: country, check digits, mod 97 = 1)."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return f"{value!r} is not an IBAN (two letters, two digits, then 11 to 30 letters or digits)"
    moved = compact[4:] + compact[:4]
    if int("".join(str(int(c, 36)) for c in moved)) % 97 != 1:
        return f"{value!r} fails its check digits (mod 97): a typing error?"
    return None


def sender_problem(value: str | None) -> str | None:
    address = (value or "").strip().rsplit("<", 1)[-1].rstrip(">").strip()
    if "@" not in address:
        return f"{value!r} is not an e-mail address"
    if address.rsplit("@", 1)[1].lower().rstrip(".").endswith(".invalid"):
        return f"{address} is under .invalid, a domain that never receives mail"
    return None


_VALIDATORS = {"siren": siren_problem, "iban": iban_problem, "sender": sender_problem}


def identity_check(values: Mapping[str, str | None], *, agency: bool) -> IdentityCheck:
    """What a real run lacks of the creditor's identity (and, in agency mode, the agency's).

    `values` holds the fields of `REQUIREMENTS` (name, legal_form, siren, address, iban,
    bic, phone, sender, agency_address). A value given but wrong (a SIREN or an IBAN that
    fails its check digits) counts as missing: a letter printing it would mislead.
    """
    missing, warnings, names = [], [], []
    for requirement in REQUIREMENTS:
        if requirement.agency_only and not agency:
            continue
        value = (values.get(requirement.field) or "").strip()
        problem = None if value else "not set"
        if value and requirement.field in _VALIDATORS:
            problem = _VALIDATORS[requirement.field](value)
        if problem is None:
            continue
        line = f"{requirement.setting} ({problem}): {requirement.why}"
        (missing if requirement.required else warnings).append(line)
        if requirement.required:
            names.append(requirement.setting)
    return IdentityCheck(tuple(missing), tuple(warnings), tuple(names))


def display_siren(value: str | None) -> str | None:
    """`123 456 782`, as the SIREN is printed; None when there is none."""
    digits = compact_siren(value)
    if not digits:
        return None
    return " ".join(digits[i:i + 3] for i in range(0, len(digits), 3)) if len(digits) == 9 else digits


# --- a collection agency's letters (CPCE R124-4) ----------------------------------------------

# CPCE R124-4, 5°: the letter reproduces paragraphs 2 and 3 of L111-8. The text in force
# since 19 March 2014 (loi n° 2014-344 du 17 mars 2014, art. 12), word for word.
L111_8_SOURCE = ("Code des procédures civiles d'exécution, article L111-8, alinéas 2 et 3 "
                 "(rédaction issue de la loi n° 2014-344 du 17 mars 2014, art. 12)")
L111_8_PARAGRAPHS_2_3 = (
    "Les frais de recouvrement entrepris sans titre exécutoire restent à la charge du "
    "créancier, sauf s'ils concernent un acte dont l'accomplissement est prescrit par la loi "
    "au créancier. Toute stipulation contraire est réputée non écrite, sauf disposition "
    "législative contraire.",
    "Cependant, le créancier qui justifie du caractère nécessaire des démarches entreprises "
    "pour recouvrer sa créance peut demander au juge de l'exécution de laisser tout ou partie "
    "des frais ainsi exposés à la charge du débiteur de mauvaise foi.",
)


@dataclass(frozen=True)
class SentLetter:
    """A reminder the ledger sent: when, its Message-ID, what it listed."""

    sent_on: date
    message_id: str
    invoices: tuple[str, ...]


def first_letter(sent: Iterable[SentLetter], listed: Iterable[str]) -> SentLetter | None:
    """The first letter about this debt, whose date and reference each later contact recalls
    (CPCE R124-4, last paragraph): the earliest sent reminder listing any of the invoices
    listed now. None when none did: the letter being written is the first."""
    numbers = set(listed)
    about = [s for s in sent if numbers & set(s.invoices)]
    return min(about, key=lambda s: s.sent_on) if about else None


def first_contact(sent: Iterable[SentLetter]) -> bool:
    """No reminder was ever sent to the debtor: the letter written now is the first contact,
    which carries the GDPR notice (article 14: the data came from the creditor)."""
    return not any(True for _ in sent)


def reference(message_id: str) -> str:
    """A reminder's reference as printed: its Message-ID without the angle brackets."""
    return message_id.strip().strip("<>")


def call_opening(agency: str, creditor: str, first: SentLetter | None, *,
                 language: str = "fr") -> str:
    """What a collector of an agency says first on the phone: who calls, that it collects
    debts out of court, for which creditor, and the first letter's date and reference,
    recalled at every contact after it (CPCE R124-4, 1°, 2° and last paragraph)."""
    if language == "en":
        text = f"{agency}, a debt collection agency, calling on behalf of {creditor}."
        if first is not None:
            text += (f" Further to our letter of {first.sent_on:%d/%m/%Y}, "
                     f"reference {reference(first.message_id)}.")
        return text
    text = f"{agency}, recouvrement amiable de créances, pour le compte de {creditor}."
    if first is not None:
        text += (f" Suite à notre lettre du {first.sent_on:%d/%m/%Y}, "
                 f"référence {reference(first.message_id)}.")
    return text


# --- who writes: the creditor as the letters name it ------------------------------------------


@dataclass(frozen=True)
class Creditor:
    name: str
    sender: str
    legal_form: str | None = None
    siren: str | None = None
    phone: str | None = None
    iban: str | None = None
    bic: str | None = None
    address: str | None = None
    # A collection agency writing for the creditor (CPCE R124-4): its name and address.
    agency: str | None = None
    agency_address: str | None = None
    # The creditor's written mandate to the agency (CPCE R124-3), as the dossier names it.
    mandate_reference: str | None = None
    mandate_signed_on: date | None = None
    # The SMS provider's STOP short number, quoted in SMS to consumers (none: "reply STOP").
    sms_stop_number: str | None = None
    # Agency mode: the creditor's code in the register, so that two creditors' reminders
    # to the same account for the same invoice numbers never share a Message-ID.
    code: str | None = None
