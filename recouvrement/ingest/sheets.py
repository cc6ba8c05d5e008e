"""Read the rows of an Excel (.xlsx) sheet as text cells, with their row numbers.

Dates become ISO text and numbers plain text with a decimal point, so that
the same parsing applies to CSV and Excel. A cell holding a formula gives the
value Excel computed and saved with it; a formula saved without its value is
kept as its text, so that validation shows it instead of reading it as empty.

A workbook is a zip of XML: a few megabytes on disk can hold gigabytes of
XML, or a sheet declared a million rows wide. `WorkbookLimits` are checked
before anything is parsed — the uncompressed size from the zip's central
directory (zipfile never inflates a member past the size declared there),
the rows and columns from the sheet's declared dimension — and again while
the rows stream in, for a sheet that declares none.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.inbox import read_regular

CENT = Decimal("0.01")
MB = 1024 * 1024


@dataclass(frozen=True)
class WorkbookLimits:
    """How big a workbook may be before it is read (settings `xlsx_max_*`)."""

    max_uncompressed_mb: int = 256  # the XML inside, all parts together
    max_rows: int = 300_000  # per sheet, blank rows included
    max_columns: int = 200  # accounting exports have a few dozen at most

    @classmethod
    def from_settings(cls, settings) -> "WorkbookLimits":
        return cls(settings.xlsx_max_uncompressed_mb, settings.xlsx_max_rows,
                   settings.xlsx_max_columns)


def sheet_names(path: Path, limits: WorkbookLimits = WorkbookLimits()) -> list[str]:
    workbook = _open(path, data_only=True, limits=limits)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def sheet_rows(path: Path, name: str, limits: WorkbookLimits = WorkbookLimits()
               ) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of one sheet, as text, and their row numbers."""
    rows, lines = _read(path, name, data_only=False, limits=limits)
    pending = [(i, j) for i, row in enumerate(rows) for j, cell in enumerate(row)
               if isinstance(cell, _Formula)]
    if pending:
        values = dict(zip(*reversed(_read(path, name, data_only=True, limits=limits))))
        for i, j in pending:
            cached = values.get(lines[i], [])
            value = cached[j] if j < len(cached) else ""
            rows[i][j] = value if value != "" else str(rows[i][j])
    return [[str(c) for c in row] for row in rows], lines


class _Formula(str):
    """A formula's text, until the value Excel saved for it is looked up."""


def _open(path: Path, *, data_only: bool, limits: WorkbookLimits):
    import openpyxl

    data = read_regular(path)
    if not data:
        raise InputFileError(path, "the file is empty")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputFileError(path, "not a readable Excel workbook (.xlsx is a zip archive; "
                                   "is it a CSV file or an old .xls renamed?)")
    _check_size(path, data, limits)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputFileError(path, f"not a readable Excel workbook ({type(exc).__name__})") from exc


def _check_size(path: Path, data: bytes, limits: WorkbookLimits) -> None:
    """The XML inside, as the central directory declares it, within the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputFileError(path, f"not a readable Excel workbook ({type(exc).__name__})") from exc
    if inflated > limits.max_uncompressed_mb * MB:
        raise InputFileError(path, (
            f"the workbook holds {inflated / MB:,.0f} MB of XML once uncompressed "
            f"({len(data) / MB:,.1f} MB on disk); the limit is {limits.max_uncompressed_mb:,} MB "
            f"(RECOUVREMENT_XLSX_MAX_UNCOMPRESSED_MB): refused before reading it"))


def _check_shape(path: Path, name: str, rows: int | None, columns: int | None,
                 limits: WorkbookLimits, declared: bool) -> None:
    for count, limit, what, setting in ((rows, limits.max_rows, "rows", "ROWS"),
                                        (columns, limits.max_columns, "columns", "COLUMNS")):
        if count is not None and count > limit:
            seen = f"declares {count:,}" if declared else f"has more than {limit:,}"
            raise InputFileError(path, f"sheet {name!r} {seen} {what} (limit {limit:,}, "
                                       f"RECOUVREMENT_XLSX_MAX_{setting}): refused, nothing read")


def _read(path: Path, name: str, *, data_only: bool, limits: WorkbookLimits
          ) -> tuple[list[list], list[int]]:
    workbook = _open(path, data_only=data_only, limits=limits)
    try:
        sheet = workbook[name]
        # The dimension the sheet declares (read ahead of its rows): openpyxl pads
        # every row to its width and the sheet to its height.
        _check_shape(path, name, sheet.max_row, sheet.max_column, limits, declared=True)
        rows, lines = [], []
        try:
            for number, row in enumerate(sheet.iter_rows(), start=1):
                if number > limits.max_rows or len(row) > limits.max_columns:
                    _check_shape(path, name, number, len(row), limits, declared=False)
                cells = [_text(cell) for cell in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if any(c.strip() for c in cells):
                    rows.append(cells)
                    lines.append(number)
        except InputFileError:
            raise
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
