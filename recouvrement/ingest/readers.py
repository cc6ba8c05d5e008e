"""Find the exports in the inbox and read them into frames of text, row by row.

A file that cannot be read at all raises `InputFileError`, which names the
file and the problem; nothing is written before every file has been read.
The header row may sit below a title block; its names are the canonical
ones or those of a mapping profile (see `profiles.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when a file is read, not to list the inbox
    import pandas as pd

from recouvrement.ingest.columns import (  # noqa: F401  (re-exported)
    COLUMNS,
    CUSTOMER_COLUMNS,
    CUSTOMER_REQUIRED,
    INVOICE_COLUMNS,
    INVOICE_REQUIRED,
    LINE,
    REQUIRED,
    SHAPE,
)
from recouvrement.ingest.dialect import SEPARATORS, decode, read_rows, sniff_separator  # noqa: F401
from recouvrement.ingest.errors import InputFileError
from recouvrement.ingest.file_hashes import FileHashes
from recouvrement.ingest.inbox import RULE, Skipped, entries, read_regular
from recouvrement.ingest.profiles import (
    HeaderMap,
    Profile,
    fold,
    known_names,
    load_profiles,
    resolve_header,
)
from recouvrement.ingest.sheets import WorkbookLimits, sheet_names, sheet_rows

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
HEADER_SEARCH = 20  # rows of title block tolerated above the header
_FEC_TOKEN = re.compile(r"(?:^|[^a-z])fec(?:[^a-z]|$)")
_FILE_DATE = re.compile(r"(?<!\d)(20\d\d)-?(\d\d)-?(\d\d)(?!\d)")
_UNSUPPORTED = {".xls": "an old Excel (.xls) workbook", ".ods": "an OpenDocument spreadsheet"}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    kind: str  # "customers", "invoices" or "fec"
    sha256: str


def kind_of(path: Path) -> str | None:
    """What a file of the inbox holds, from its name; None when it is not an export."""
    name, suffix = path.name.lower(), path.suffix.lower()
    kind = ("customers" if name.startswith("customers")
            else "invoices" if name.startswith("invoices") else None)
    if kind and suffix in _UNSUPPORTED:
        raise InputFileError(path, f"{_UNSUPPORTED[suffix]}: save it as .xlsx or CSV")
    if kind and suffix in (*TEXT_SUFFIXES, ".xlsx"):
        return kind
    if kind is None and suffix in TEXT_SUFFIXES and ("FEC" in path.stem
                                                     or _FEC_TOKEN.search(name)):
        return "fec"
    return None


def discover(inbox: Path, skipped: list[Skipped] | None = None,
             hashes: FileHashes | None = None) -> list[ExportFile]:
    """The exports in the inbox: customers first, then invoices and FEC by name.

    Only regular files are read; an entry named like an export that is a
    symbolic link, a pipe, a device or a folder is added to `skipped`, unread.
    `hashes`: the hashes kept from earlier commands (a file as it was is not read again).
    """
    hashes = hashes or FileHashes(None)
    found = []
    if not inbox.is_dir():
        return found
    regular, others = entries(inbox)
    for path, what in others:
        if skipped is not None and _export_like(path):
            skipped.append(Skipped(path.name, f"{what}: {RULE}"))
    for path in regular:
        kind = kind_of(path)
        if not kind:
            continue
        try:
            digest = hashes.sha256(path)
        except InputFileError as exc:  # swapped for a link or a pipe since it was listed
            if skipped is not None:
                skipped.append(Skipped(path.name, exc.problem))
            continue
        found.append(ExportFile(path, kind, digest))
    hashes.save()
    return sorted(found, key=lambda f: (f.kind != "customers", f.path.name))


def _export_like(path: Path) -> bool:
    try:
        return kind_of(path) is not None
    except InputFileError:  # an .xls or .ods named like an export
        return True


def file_date(path: Path) -> date | None:
    """A date written in the file's name (`…20261102…` or `…2026-11-02…`), if any."""
    for match in _FILE_DATE.finditer(path.name):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def read_export(export: ExportFile, *, today: date | None = None, profile: str | None = None,
                sheet: str | None = None, profiles: dict[str, Profile] | None = None,
                limits: WorkbookLimits = WorkbookLimits()) -> pd.DataFrame:
    """The file's rows as text in canonical columns (absent optional ones empty), with line numbers.

    `frame.attrs` tells what was read: `present` (the canonical columns the
    file has), `profile`, `sheet`, `header_line`, `separator` (text files) and
    `titles` (canonical column -> the file's own header for it).
    """
    path, kind = export.path, export.kind
    profiles = load_profiles() if profiles is None else profiles
    if path.suffix.lower() == ".xlsx":
        rows, lines, header_at, mapping, sheet = _locate_in_workbook(path, kind, profiles,
                                                                     profile, sheet, limits)
        check_shape, separator = False, None
    else:
        text = decode(path, read_regular(path))
        separator = sniff_separator(path, text)
        rows, lines = read_rows(path, text, separator)
        header_at, mapping = _locate_header(path, kind, rows, profiles, profile)
        check_shape = True
    if header_at + 1 >= len(rows):
        raise InputFileError(path, f"line {lines[header_at]}: a header but no rows under it")
    frame = _frame(rows, lines, header_at, mapping, check_shape)
    present = [c for c in COLUMNS[kind] if c in mapping.columns or c in mapping.defaults]
    _apply_profile(frame, mapping, path, today)
    for column in COLUMNS[kind]:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[[LINE, SHAPE, *COLUMNS[kind]]]
    titles = {name: str(rows[header_at][i]).strip().lstrip("\ufeff")
              for name, i in mapping.columns.items()}
    frame.attrs.update(present=present, profile=mapping.profile, sheet=sheet,
                       header_line=lines[header_at], separator=separator, titles=titles)
    return frame


def _locate_header(path: Path, kind: str, rows: list[list[str]], profiles, named: str | None
                   ) -> tuple[int, HeaderMap]:
    for index, row in enumerate(rows[:HEADER_SEARCH]):
        mapping = resolve_header([c.strip() for c in row], kind, profiles, named, path)
        if mapping is not None:
            return index, mapping
    # Name the columns of the row that looks most like a header.
    known = known_names(kind, profiles)
    closest = max(rows[:HEADER_SEARCH], key=lambda row: sum(fold(c) in known for c in row),
                  default=[])
    raise InputFileError(path, _missing_columns(kind, closest, profiles, named))


def _missing_columns(kind: str, row: list[str], profiles, named: str | None) -> str:
    found = {fold(c) for c in row}
    missing = [c for c in REQUIRED[kind] if fold(c) not in found]
    shown = ", ".join(c.strip().lstrip("\ufeff") for c in row if c.strip())
    message = f"missing required column(s) {', '.join(missing) or '(none by name)'} (found: {shown})"
    if named:
        return message + f"; the mapping profile {named!r} does not fit this header either"
    if any(kind in p.kinds for p in profiles.values()):
        message += "; no mapping profile recognises this header either"
    return message


def _locate_in_workbook(path: Path, kind: str, profiles, named: str | None, sheet: str | None,
                        limits: WorkbookLimits):
    names = sheet_names(path, limits)
    wanted = sheet or (profiles[named].kinds[kind].sheet
                       if named in profiles and kind in profiles[named].kinds else None)
    if wanted is not None and wanted not in names:
        raise InputFileError(path, f"no sheet named {wanted!r} (sheets: {', '.join(names)})")
    first_problem = None
    for name in [wanted] if wanted else names:
        rows, lines = sheet_rows(path, name, limits)
        if not rows:
            first_problem = first_problem or InputFileError(path, f"sheet {name!r} is empty")
            continue
        try:
            header_at, mapping = _locate_header(path, kind, rows, profiles, named)
        except InputFileError as exc:
            first_problem = first_problem or InputFileError(path, f"sheet {name!r}: {exc.problem}")
            continue
        return rows, lines, header_at, mapping, name
    raise first_problem or InputFileError(path, "the workbook has no sheet")


def _frame(rows: list[list[str]], lines: list[int], header_at: int, mapping: HeaderMap,
           check_shape: bool) -> pd.DataFrame:
    import pandas as pd

    header = rows[header_at]
    width = len(header)
    data, data_lines = rows[header_at + 1:], lines[header_at + 1:]
    columns = {name: _shared((row[i] if i < len(row) else "").strip() for row in data)
               for name, i in mapping.columns.items()}
    frame = pd.DataFrame(columns, dtype=str)
    frame.insert(0, LINE, pd.array(data_lines, dtype="int64"))
    shapes = [""] * len(data)
    if check_shape:
        for index, row in enumerate(data):
            # Trailing empty fields (a separator at the end of each line) are harmless.
            if len(row) < width or (len(row) > width and any(c.strip() for c in row[width:])):
                shapes[index] = f"has {len(row)} fields where the header has {width}"
    frame[SHAPE] = pd.Series(shapes, dtype=str)
    return frame


def _shared(values) -> list[str]:
    """The column's values, each distinct one as one string object.

    A column of a million rows holds a few hundred dates, one currency, an
    account for every ten invoices: kept as one string per row, each value
    costs some 50 bytes a row; shared, it costs a pointer (the frame is the
    same, value for value).
    """
    seen: dict[str, str] = {}
    return [seen.setdefault(value, value) for value in values]


def _apply_profile(frame: pd.DataFrame, mapping: HeaderMap, path: Path, today: date | None) -> None:
    for column, values in mapping.values.items():
        if column in frame.columns:
            unique = frame[column].unique()
            frame[column] = frame[column].map({u: values.get(fold(u), u) for u in unique})
    for column, value in mapping.defaults.items():
        if value == "file_date":
            day = file_date(path) or today or date.today()
            value = day.isoformat()
        elif value == "today":
            value = (today or date.today()).isoformat()
        if column in frame.columns:
            frame[column] = frame[column].mask(frame[column].eq(""), value)
        else:
            frame[column] = value
