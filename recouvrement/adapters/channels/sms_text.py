"""The SMS of a reminder: `templates/sms/<language>/<kind>.txt`, brought into GSM-7.

Python prepares the plain values (the amount already formatted, the IBAN
compacted); the template words them. One SMS is 160 GSM-7 characters: the
templates are written to fit with a long creditor name and a seven-figure
amount (tests/unit/test_sms_text.py measures them).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from recouvrement.domain.sms import to_gsm7
from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, Creditor, format_amount, format_date

KINDS = ("courtesy", "reminder", "formal_notice")


@lru_cache(maxsize=8)
def _environment(folders: tuple[str, ...]) -> Environment:
    return Environment(loader=FileSystemLoader(list(folders)), autoescape=False,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_sms(*, kind: str, language: str, creditor: Creditor, amount: Decimal, currency: str,
               count: int, consumer: bool, due: date | None = None,
               deadline: date | None = None, stop_number: str | None = None,
               templates_dir: Sequence[Path] | None = None) -> str:
    """The text of the SMS, on one line, in GSM-7 where a spelling exists."""
    if kind not in KINDS:
        raise ValueError(f"no SMS template for a level of kind {kind!r} (one of {KINDS})")
    language = language if language in ("fr", "en") else "fr"
    folders = tuple(str(f) for f in (templates_dir or [DEFAULT_TEMPLATES]))
    template = _environment(folders).get_template(f"sms/{language}/{kind}.txt")
    text = template.render(
        creditor=creditor.name,
        count=count, amount=format_amount(amount, currency, language),
        due=format_date(due, language) if due else "",
        deadline=format_date(deadline, language) if deadline else "",
        iban=re.sub(r"\s+", "", creditor.iban or "").upper() or None,
        phone=creditor.phone, stop=consumer, stop_number=stop_number)
    return to_gsm7(" ".join(text.split()))
