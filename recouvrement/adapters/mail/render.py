"""Reminder e-mails: Python prepares the rows, the templates of each level and language word them.

Amounts and dates reach the templates already formatted for the debtor's
language; Jinja2 escapes everything in the HTML part (debtor names come from
the creditor's exports and are never trusted).
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from recouvrement.domain.identity import (L111_8_PARAGRAPHS_2_3, L111_8_SOURCE, SentLetter,
                                          display_siren, reference)
from recouvrement.domain.model import Debtor, DebtorKind, to_cents
from recouvrement.domain.policy import (BUILT_IN_TEMPLATES, FORMAL_NOTICE, REMINDER,
                                        registered_by_default)

# The built-in templates ship inside the package (package data), so an installed
# wheel has them as well as a checkout.
DEFAULT_TEMPLATES = Path(str(resources.files("recouvrement").joinpath("templates")))
LEVELS = (0, 1, 2, 3)

NBSP = "\u00a0"  # between an amount and its currency, French style
NNBSP = "\u202f"  # French thousands separator
CURRENCY_SYMBOLS = {"EUR": "€"}
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str
    days_late: int
    interest: Decimal | None = None
    fixed_fee: Decimal | None = None
    # Taken off by a payment or credit note not lettered to any invoice (Code civil 1342-10).
    set_off: Decimal | None = None


@dataclass(frozen=True)
class RenderedReminder:
    subject: str
    text: str
    html: str


# --- formatting --------------------------------------------------------------


def language_of(debtor: Debtor) -> str:
    """'en' for an English-speaking debtor ('en', 'EN', 'en-GB'), 'fr' for everyone else."""
    code = re.split(r"[-_]", (debtor.language or "").strip().lower())[0]
    return "en" if code == "en" else "fr"


def shown_number(number: str, account: str) -> str:
    """The piece as the customer knows it, without the account the ledger adds to its number
    when one reference (an opening entry, a monthly batch) stands for several customers."""
    suffix = f"-{account}"
    return number[:-len(suffix)] if number.endswith(suffix) and len(number) > len(suffix) else number


def format_amount(amount: Decimal, currency: str, language: str) -> str:
    """`1 234,56 €` in French, `€1,234.56` in English; the ISO code for other currencies."""
    value = to_cents(Decimal(amount))
    sign = "-" if value < 0 else ""
    number = f"{abs(value):,.2f}"  # Decimal formatting: no float on the way
    code = currency.strip().upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if language == "fr":
        units, cents = number.split(".")
        return f"{sign}{units.replace(',', NNBSP)},{cents}{NBSP}{symbol or code}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{code}{NBSP}{number}"


def format_date(day: date, language: str) -> str:
    """`22/11/2026` in French, `22 Nov 2026` in English, whatever the machine's locale."""
    if language == "fr":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def _iban_display(iban: str) -> str:
    compact = re.sub(r"\s+", "", iban).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


# --- rendering -----------------------------------------------------------------


def render_reminder(*, level: int, debtor: Debtor, invoices: Sequence[InvoiceRow], as_of: date,
                    creditor: Creditor, deadline: date | None = None,
                    templates_dir: Path | Sequence[Path] | None = None,
                    letter: bool = False, template: str | None = None,
                    message_id: str | None = None, first_letter: SentLetter | None = None,
                    first_contact: bool = False, formal_notice: bool | None = None,
                    registered: bool | None = None) -> RenderedReminder:
    """The subject, text and HTML of one debtor's reminder of `level`.

    `template`, `formal_notice` and `registered` are what the policy says of
    the level (`Level.template`, `.is_formal_notice`, `.registered`); left out,
    they are those of the built-in template `level<level>`.
    `templates_dir` may be a list of folders: a creditor's own folder first
    overrides any template of the default one behind it. With `letter`, the
    HTML is the same reminder laid out as a letter (the debtor's postal
    address in the window, the registered-mail mention when it goes
    registered), for the PDF.

    An agency's letters (CPCE R124-4) print their own reference (`message_id`),
    recall the date and reference of `first_letter` (the first one sent about
    these invoices), and carry the GDPR notice on the debtor's `first_contact`.
    """
    if level not in LEVELS:
        raise ValueError(f"render_reminder: unknown level {level!r} (expected one of {LEVELS})")
    if not invoices:
        raise ValueError("render_reminder: a reminder lists at least one invoice")
    template = template or f"level{level}"
    if formal_notice is None:
        formal_notice = BUILT_IN_TEMPLATES.get(template) == FORMAL_NOTICE
    if registered is None:
        registered = registered_by_default(level, FORMAL_NOTICE if formal_notice else REMINDER)
    if formal_notice and deadline is None:
        raise ValueError(f"render_reminder: a formal notice (level {level}) needs a deadline")
    kind = DebtorKind(debtor.kind)
    if kind is DebtorKind.B2C and any(row.fixed_fee for row in invoices):
        # CPCE L111-8: recovery costs are never charged to a consumer.
        raise ValueError(f"render_reminder: fixed recovery fee listed for consumer {debtor.account}")
    language = language_of(debtor)
    env = _environment(_folders(templates_dir))
    text_template = env.get_template(f"email/{language}/{template}.txt")
    html_template = env.get_template(f"email/{language}/{template}.html")
    context = _context(level, debtor, kind, invoices, as_of, creditor, deadline, language)
    context.update(letter=letter, formal_notice=formal_notice, registered=registered)
    context["reference"] = reference(message_id) if message_id else None
    context["first_letter"] = None if first_letter is None else {
        "date": format_date(first_letter.sent_on, language),
        "reference": reference(first_letter.message_id)}
    context["first_contact"] = first_contact
    context["subject"] = _subject(text_template, context)
    return RenderedReminder(context["subject"], _tidy_text(text_template.render(context)),
                            html_template.render(context))


def _folders(templates_dir: Path | Sequence[Path] | None) -> tuple[str, ...]:
    if templates_dir is None:
        return (str(DEFAULT_TEMPLATES),)
    if isinstance(templates_dir, (str, Path)):
        return (str(templates_dir),)
    return tuple(str(folder) for folder in templates_dir)


@lru_cache(maxsize=16)
def _environment(folders: tuple[str, ...]) -> Environment:
    # One environment per list of folders, so compiled templates are reused
    # across the thousands of reminders of a run.
    return Environment(
        loader=FileSystemLoader(list(folders)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), disabled_extensions=("txt",),
                                     default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _subject(template: Template, context: dict[str, Any]) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise ValueError(f"template {template.name} has no {{% block subject %}}")
    text = "".join(block(template.new_context(context)))
    # Line breaks (and what Unicode counts as one) would end the header: one line only.
    # No-break spaces stay: they belong to the formatted amounts.
    return re.sub(r"[ \t]+", " ", LINE_BREAKS.sub(" ", text)).strip()


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _context(level: int, debtor: Debtor, kind: DebtorKind, invoices: Sequence[InvoiceRow],
             as_of: date, creditor: Creditor, deadline: date | None,
             language: str) -> dict[str, Any]:
    def money(amount: Decimal, currency: str) -> str:
        return format_amount(amount, currency, language)

    def day(value: date) -> str:
        return format_date(value, language)

    rows, sums = [], {}
    for invoice in invoices:
        currency = invoice.currency.strip().upper()
        open_amount = to_cents(invoice.open_amount)
        interest = to_cents(invoice.interest or Decimal(0))
        fee = to_cents(invoice.fixed_fee or Decimal(0))
        # Totals add the rounded figures the debtor reads, so the columns add up.
        total = sums.setdefault(currency, [Decimal(0), Decimal(0), Decimal(0)])
        total[0] += open_amount
        total[1] += interest
        total[2] += fee
        rows.append({
            "number": shown_number(invoice.number, debtor.account),
            "set_off": money(-to_cents(invoice.set_off), currency) if invoice.set_off else None,
            "issue_date": day(invoice.issue_date),
            "due_date": day(invoice.due_date),
            "amount": money(invoice.amount, currency),
            "open_amount": money(open_amount, currency),
            "interest": money(interest, currency),
            "fixed_fee": money(fee, currency),
            "amount_due": money(open_amount + interest + fee, currency),
            "currency": currency,
            "days_late": max(int(invoice.days_late), 0),
            "days_to_due": max((invoice.due_date - as_of).days, 0),
        })
    totals = [{"currency": currency,
               "principal": money(principal, currency),
               "interest": money(interest, currency),
               "fees": money(fees, currency),
               "total": money(principal + interest + fees, currency)}
              for currency, (principal, interest, fees) in sums.items()]
    numbers = [shown_number(invoice.number, debtor.account) for invoice in invoices]
    return {
        "language": language,
        "level": level,
        "as_of": day(as_of),
        "deadline": day(deadline) if deadline is not None else None,
        "debtor": {
            "name": debtor.name,
            "account": debtor.account,
            "kind": kind.value,
            "is_consumer": kind is DebtorKind.B2C,
            "is_public": kind is DebtorKind.PUBLIC,
            "address_lines": [line.strip() for line in (debtor.address or "").splitlines()
                              if line.strip()],
            "postcode_city": " ".join(p for p in (debtor.postcode, debtor.city) if p),
            "country": debtor.country if debtor.country not in (None, "", "FR", "France") else "",
        },
        "creditor": {
            "name": creditor.name,
            "legal_form": (creditor.legal_form or "").strip() or None,
            "siren": display_siren(creditor.siren),
            "email": parseaddr(creditor.sender)[1] or creditor.sender,
            "phone": creditor.phone,
            "iban": _iban_display(creditor.iban) if creditor.iban else None,
            "bic": creditor.bic.strip().upper() if creditor.bic else None,
            "address_lines": [line.strip() for line in (creditor.address or "").splitlines()
                              if line.strip()],
            "agency": creditor.agency,
            "agency_address_lines": [line.strip() for line in
                                     (creditor.agency_address or "").splitlines() if line.strip()],
        },
        "law": {"l111_8": L111_8_PARAGRAPHS_2_3, "l111_8_source": L111_8_SOURCE},
        "invoices": rows,
        "invoice_count": len(rows),
        "invoice_numbers": ", ".join(numbers),
        "payment_reference": ", ".join(numbers),
        "first_due_date": day(min(invoice.due_date for invoice in invoices)),
        "show_interest": any(invoice.interest is not None for invoice in invoices),
        "show_fees": any(total[2] != 0 for total in sums.values()),
        "totals": totals,
        "principal_due": " + ".join(t["principal"] for t in totals),
        "amount_due": " + ".join(t["total"] for t in totals),
    }


# --- the MIME message ------------------------------------------------------------

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")
MESSAGE_ID = re.compile(rf"<{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})*>")


def _no_line_break(field: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{field}: line breaks are not allowed in an e-mail header")
    return value


def _address(field: str, value: str, *, display_name: bool) -> str:
    """The address, checked; `Name <addr>` only where a display name is allowed."""
    _no_line_break(field, value)
    value = value.strip()
    if ADDRESS.fullmatch(value):
        return value
    if display_name:
        name, addr = parseaddr(value)
        if addr and ADDRESS.fullmatch(addr) and value.endswith(f"<{addr}>"):
            return formataddr((name, addr)) if name else addr
    raise ValueError(f"{field}: {value!r} is not a plausible e-mail address")


class _Headers(HeaderRegistry):
    """The standard header registry, parsing each shared header once.

    The stdlib's registry creates a new class for every header it parses,
    and every reminder sets the same sender and MIME headers on its parts:
    together about half the cost of building one. Parsed headers are
    immutable, so one parse serves every message that carries the same
    header. Headers about the debtor (To, Subject...) are parsed each time:
    they are not kept in memory.
    """

    SHARED = frozenset({"from", "mime-version", "content-type", "content-transfer-encoding",
                        "content-disposition", "x-recouvrement-level"})

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}
        self.parsed = lru_cache(maxsize=1024)(super().__call__)

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]

    def __call__(self, name: str, value: Any) -> Any:
        if type(value) is str and name.lower() in self.SHARED:
            return self.parsed(name, value)
        return super().__call__(name, value)


POLICY = email.policy.default.clone(header_factory=_Headers())
_WIRE = POLICY.clone(linesep="\r\n")


def build_email(rendered: RenderedReminder, *, sender: str, to: str, debtor_account: str,
                level: int, invoice_numbers: Sequence[str], message_id: str) -> EmailMessage:
    """A multipart/alternative message (real text part, HTML part) with the reminder headers."""
    from_header = _address("sender", sender, display_name=True)
    to_header = _address("to", to, display_name=False)
    subject = _no_line_break("subject", rendered.subject).strip()
    account = _no_line_break("debtor_account", debtor_account).strip()
    if not account:
        raise ValueError("debtor_account: empty")
    if level not in LEVELS:
        raise ValueError(f"level: {level!r} is not one of {LEVELS}")
    if not invoice_numbers:
        raise ValueError("invoice_numbers: a reminder chases at least one invoice")
    for number in invoice_numbers:
        _no_line_break("invoice_numbers", number)
        if "," in number or not number.strip():
            raise ValueError(f"invoice_numbers: {number!r} cannot be listed comma-separated")
    _no_line_break("message_id", message_id)
    if not MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"message_id: {message_id!r} is not of the form <id@domain>")

    message = EmailMessage(policy=POLICY)
    message["From"] = from_header
    message["To"] = to_header
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id
    message["X-Recouvrement-Debtor"] = account
    message["X-Recouvrement-Level"] = str(level)
    message["X-Recouvrement-Invoices"] = ",".join(n.strip() for n in invoice_numbers)
    # quoted-printable keeps the message 7-bit clean whatever the relay supports.
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # "=_" never occurs in quoted-printable text, so this boundary cannot collide
    # with the parts, and the generator has no need to search them for one.
    message.set_boundary(f"=_{hashlib.sha256(message_id.encode()).hexdigest()[:32]}")
    return message


def wire_form(message: EmailMessage) -> bytes:
    """The message as it goes to the relay (CRLF line ends), without its Date header,
    which `dated` adds when it is sent."""
    del message["Date"]
    return message.as_bytes(policy=_WIRE)


def from_line(sender: str) -> bytes:
    """The From header as `wire_form` writes it, first of the message, for this sender."""
    return _WIRE.fold_binary("From", _address("sender", sender, display_name=True))


def dated(wire: bytes) -> bytes:
    """A message in wire form, dated now: the header goes first, where order is free."""
    return f"Date: {formatdate(localtime=True)}\r\n".encode("ascii") + wire


def make_message_id(key: str, domain: str) -> str:
    """`<hash@domain>`, the same for the same key: a retried reminder keeps its Message-ID."""
    domain = _no_line_break("domain", domain).strip().strip("<>").lower()
    if not re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*", domain):
        raise ValueError(f"domain: {domain!r} is not a domain name")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    # Short enough that "Message-ID: <…>" fits on one 78-character line for
    # usual domains: a folded msg-id parses back with a leading space.
    return f"<{digest}@{domain}>"
