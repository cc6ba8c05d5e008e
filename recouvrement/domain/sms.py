"""What an SMS may say and when it may go: GSM-7 length, the hours it is sent in.

A text of GSM-7 characters (3GPP TS 23.038) fits 160 in one SMS; one
character outside that alphabet turns the whole text into UCS-2, 70 a part,
so a creditor's name with a "ç" or a "ô" would make every reminder cost two
or three SMS. The text is therefore brought into GSM-7 first (accents the
alphabet lacks are dropped, "œ" written "oe"), and measured as the network
counts it (the characters of the extension table, "€" among them, count two).

SMS reminders go out on business days between 8:00 and 20:00 in the
creditor's time zone: the hours the profession keeps for calls to a debtor
(and that French operators impose on marketing SMS); outside them, an SMS
waits for the next run, it does not fail.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time

from recouvrement.domain.calendar import is_business_day

SINGLE_SMS = 160      # GSM-7 characters in one SMS
PART = 153            # in each part of a longer one (the rest is the joining header)
_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
          "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_EXTENSION = "^{}\\[~]|€\f"
_SPELLED = {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"',
            "–": "-", "—": "-", "…": "...", "\u00a0": " ", "\u202f": " ", "\t": " "}

OPENS, CLOSES = time(8, 0), time(20, 0)


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet where a close spelling exists ("ç" -> "c", "ô" -> "o");
    a character with none (a Chinese name) is kept, and the text goes as UCS-2."""
    out = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            out.append(char)
        elif char in _SPELLED:
            out.append(_SPELLED[char])
        else:
            bare = "".join(c for c in unicodedata.normalize("NFD", char)
                           if not unicodedata.combining(c))
            out.append(bare if bare and all(c in _BASIC for c in bare) else char)
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(c in _BASIC or c in _EXTENSION for c in text)


def length(text: str) -> int:
    """Characters as the network counts them: two for the extension table's, in GSM-7."""
    if not is_gsm7(text):
        return len(text.encode("utf-16-le")) // 2
    return sum(2 if c in _EXTENSION else 1 for c in text)


def parts(text: str) -> int:
    """How many SMS the text is sent as."""
    units = length(text)
    single, part = (SINGLE_SMS, PART) if is_gsm7(text) else (70, 67)
    return 1 if units <= single else -(-units // part)


def may_text_at(moment: datetime) -> bool:
    """Whether an SMS may go at this local time: a business day, 8:00 to 20:00."""
    return is_business_day(moment.date()) and OPENS <= moment.time() < CLOSES


def why_not_now(moment: datetime) -> str | None:
    """Why an SMS must wait, at this local time; None when it may go."""
    if may_text_at(moment):
        return None
    if not is_business_day(moment.date()):
        return f"{moment.date().isoformat()} is not a business day: SMS wait for the next one"
    return (f"{moment.strftime('%H:%M')} is outside 08:00-20:00 in the creditor's time zone: "
            f"the SMS waits for the next run in those hours")
