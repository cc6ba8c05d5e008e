"""Find the exports in the inbox and read them into frames of text, row by row.

A file that cannot be read at all raises `InputFileError`, which names the
file and the problem; nothing is written before every file has been read.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CUSTOMER_COLUMNS = (
    "account", "name", "email", "phone", "kind", "siren", "language", "address",
    "postcode", "city", "country", "payment_terms_days",
    "collective_proceedings_since", "blocked",
)
CUSTOMER_REQUIRED = ("account", "name", "kind")
INVOICE_COLUMNS = (
    "invoice_number", "account", "issue_date", "due_date", "amount",
    "open_amount", "currency", "export_date",
)
INVOICE_REQUIRED = ("invoice_number", "account", "issue_date", "due_date",
                    "amount", "open_amount", "export_date")
LINE = "_line"  # the row's line number in its file, kept through every step
SHAPE = "_shape"  # why a row's fields do not line up with the header, if they don't

ENCODINGS = ("utf-8-sig", "cp1252")
SEPARATORS = ";,\t|"


class InputFileError(Exception):
    """A file of the inbox that cannot be read; the run stops and changes nothing."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class ExportFile:
    path: Path
    kind: str  # "customers" or "invoices"
    sha256: str


def discover(inbox: Path) -> list[ExportFile]:
    """The customers and invoices exports in the inbox, customers first."""
    found = []
    if not inbox.is_dir():
        return found
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.suffix.lower() not in (".csv", ".xlsx"):
            continue
        name = path.name.lower()
        kind = ("customers" if name.startswith("customers")
                else "invoices" if name.startswith("invoices") else None)
        if kind:
            found.append(ExportFile(path, kind, hashlib.sha256(path.read_bytes()).hexdigest()))
    return sorted(found, key=lambda f: (f.kind != "customers", f.path.name))


def read_export(export: ExportFile) -> pd.DataFrame:
    """The file's rows as text (missing optional columns empty), with their line numbers."""
    path = export.path
    frame = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_csv(path)
    columns, required = ((CUSTOMER_COLUMNS, CUSTOMER_REQUIRED) if export.kind == "customers"
                         else (INVOICE_COLUMNS, INVOICE_REQUIRED))
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {', '.join(missing)} "
                                   f"(found: {', '.join(c for c in frame.columns if c not in (LINE, SHAPE))})")
    present = [c for c in columns if c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[[LINE, SHAPE, *columns]]
    frame.attrs["present"] = present  # an absent optional column updates nothing
    return frame


def _normalise_header(name: object) -> str:
    return str(name).strip().strip("\ufeff").strip().lower()


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(path, "the file is empty")
    if b"\x00" in data[:4096]:
        raise InputFileError(path, "binary content, not a CSV export")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(path, "cannot be decoded as UTF-8 or Windows-1252")


def _sniff_separator(path: Path, header: str) -> str:
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    sep, count = max(counts.items(), key=lambda item: item[1])
    if count == 0:
        raise InputFileError(path, "no column separator (; , tab or |) in the header line")
    return sep


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    header_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_separator(path, header_line))
    try:
        header = [_normalise_header(h) for h in next(reader)]
        width = len(header)
        rows, lines, shapes = [], [], []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            # A row that does not line up with the header is kept (padded or
            # cut) and quarantined, instead of failing the whole file.
            rows.append((row + [""] * width)[:width])
            lines.append(reader.line_num)
            shapes.append("" if len(row) == width else
                          f"has {len(row)} fields where the header has {width}")
    except csv.Error as exc:
        raise InputFileError(path, f"line {reader.line_num}: {exc}") from exc
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame = frame.apply(lambda col: col.str.strip())
    frame.insert(0, LINE, pd.array(lines, dtype="int64"))
    frame[SHAPE] = pd.Series(shapes, dtype=str)
    return frame


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputFileError(path, f"not a readable Excel workbook ({type(exc).__name__})") from exc
    frame.columns = [_normalise_header(c) for c in frame.columns]
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame = frame.apply(lambda col: col.astype(str).str.strip())
    frame.insert(0, LINE, pd.RangeIndex(2, len(frame) + 2))
    frame[SHAPE] = ""
    return frame.reset_index(drop=True)
