"""Text to typed values: dates and amounts as French exports write them.

A value that is not one becomes None / NaT; the caller records why. Money is
`Decimal`, never a float; an amount is never rounded here.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pandas as pd

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d")
_TIME = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'€")
# A single separator followed by exactly three digits: 1.234 or 1,234 could be
# a thousand or one and a bit; the rest of the file decides, or nothing does.
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO, `DD/MM/YYYY`, `DD/MM/YY`, `DD.MM.YYYY`, `DD-MM-YYYY` or `YYYYMMDD` (a time is ignored)."""
    unique = pd.Series(text.unique(), dtype=str)
    bare = unique.str.strip().str.replace(_TIME, "", regex=True)
    parsed = pd.Series(pd.NaT, index=unique.index, dtype="datetime64[us]")
    for fmt in DATE_FORMATS:
        todo = parsed.isna() & bare.ne("")
        if fmt == "%Y%m%d":  # only 8 digits: 2026111 is not a date
            todo &= bare.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(bare[todo], format=fmt, errors="coerce")
    lookup = dict(zip(unique, parsed))
    return text.map(lookup).astype("datetime64[us]")


def parse_amount(text: str, decimal: str | None = None) -> Decimal | None:
    """`1 234,56`, `1.234,56`, `1,234.56`, `1234.56`, `-12,5`, `12,50-` as a Decimal; None if not a number.

    `decimal` is the file's decimal mark when known; the other mark is then a
    thousands separator.
    """
    cleaned = text.translate(_SPACES)
    if not cleaned:
        return None
    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1]
    if cleaned.endswith("-") and not cleaned.startswith(("-", "+")):
        negative, cleaned = True, cleaned[:-1]  # trailing sign, as some ledgers print it
    elif cleaned.endswith("+") and not cleaned.startswith(("-", "+")):
        cleaned = cleaned[:-1]
    if decimal is None:
        if "," in cleaned and "." in cleaned:
            decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        else:
            decimal = "," if "," in cleaned else "."
    thousands = "." if decimal == "," else ","
    if cleaned.count(decimal) > 1:
        return None
    cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return -value if negative else value


def decimal_mark(values) -> str | None:
    """The decimal mark the values agree on, from those that are not ambiguous."""
    votes = {",": 0, ".": 0}
    for raw in values:
        text = raw.translate(_SPACES).strip("()+-")
        if not text or _AMBIGUOUS.match(text):
            continue
        if "," in text and "." in text:
            votes["," if text.rfind(",") > text.rfind(".") else "."] += 1
        elif text.count(",") == 1:
            votes[","] += 1
        elif text.count(".") == 1:
            votes["."] += 1
        elif text.count(",") > 1:
            votes["."] += 1  # 1,234,567: commas group thousands
        elif text.count(".") > 1:
            votes[","] += 1
    if votes[","] == votes["."]:
        return None
    return "," if votes[","] > votes["."] else "."


def parse_amounts(columns: dict[str, pd.Series]) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Each column's Decimals (None where not a number) and where a value is ambiguous.

    The decimal mark is sniffed over all the given columns of the file, so
    `1.234` reads as 1234 in a file that writes `1.234,56` elsewhere; when
    the file never says, `1.234` is ambiguous and flagged.
    """
    unique = set()
    for series in columns.values():
        unique.update(series.unique())
    mark = decimal_mark(unique)
    lookup = {u: parse_amount(u, mark) for u in unique}
    parsed, ambiguous = {}, {}
    for name, series in columns.items():
        parsed[name] = series.map(lookup)
        if mark is None:
            ambiguous[name] = series.str.translate(_SPACES).str.match(_AMBIGUOUS)
        else:
            ambiguous[name] = pd.Series(False, index=series.index)
    return parsed, ambiguous


def decimals(value: Decimal | None) -> float:
    """How many decimals a value really has (12.50 has one); NaN for None."""
    if value is None:
        return float("nan")
    exponent = value.normalize().as_tuple().exponent
    return float(max(0, -exponent)) if isinstance(exponent, int) else float("nan")
