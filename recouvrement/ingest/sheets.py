"""Read the rows of an Excel (.xlsx) sheet as text cells, with their row numbers.

Dates become ISO text and numbers plain text with a decimal point, so that
the same parsing applies to CSV and Excel. A cell holding a formula gives the
value Excel computed and saved with it; a formula saved without its value is
kept as its text, so that validation shows it instead of reading it as empty.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from recouvrement.ingest.errors import InputFileError

CENT = Decimal("0.01")


def sheet_names(path: Path) -> list[str]:
    workbook = _open(path, data_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def sheet_rows(path: Path, name: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of one sheet, as text, and their row numbers."""
    rows, lines = _read(path, name, data_only=False)
    pending = [(i, j) for i, row in enumerate(rows) for j, cell in enumerate(row)
               if isinstance(cell, _Formula)]
    if pending:
        values = dict(zip(*reversed(_read(path, name, data_only=True))))
        for i, j in pending:
            cached = values.get(lines[i], [])
            value = cached[j] if j < len(cached) else ""
            rows[i][j] = value if value != "" else str(rows[i][j])
    return [[str(c) for c in row] for row in rows], lines


class _Formula(str):
    """A formula's text, until the value Excel saved for it is looked up."""


def _open(path: Path, *, data_only: bool):
    import openpyxl

    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty")
    if not zipfile.is_zipfile(path):
        raise InputFileError(path, "not a readable Excel workbook (.xlsx is a zip archive; "
                                   "is it a CSV file or an old .xls renamed?)")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputFileError(path, f"not a readable Excel workbook ({type(exc).__name__})") from exc


def _read(path: Path, name: str, *, data_only: bool) -> tuple[list[list], list[int]]:
    workbook = _open(path, data_only=data_only)
    try:
        sheet = workbook[name]
        rows, lines = [], []
        try:
            for number, row in enumerate(sheet.iter_rows(), start=1):
                cells = [_text(cell) for cell in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if any(c.strip() for c in cells):
                    rows.append(cells)
                    lines.append(number)
        except Exception as exc:
            raise InputFileError(path, f"sheet {name!r}: unreadable near row {len(lines) + 1} "
                                       f"({type(exc).__name__})") from exc
        return rows, lines
    finally:
        workbook.close()


def _text(cell) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f" and isinstance(value, str):
        return _Formula(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    exact = Decimal(repr(value))
    cents = exact.quantize(CENT)
    # 0.1 + 0.2 style noise of binary floats, not a real third decimal
    if abs(exact - cents) < Decimal("1e-9"):
        return str(cents)
    return str(exact)
