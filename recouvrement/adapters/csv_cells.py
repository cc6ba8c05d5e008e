"""Cells written to a CSV a person opens in a spreadsheet."""

from __future__ import annotations

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"); a leading
# line break too, which hides the sign on the cell's second line.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> str:
    """A cell value safe to open in a spreadsheet: a leading formula sign is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
