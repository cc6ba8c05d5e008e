"""Turn the bytes of a delimited text export into rows of cells, sniffing how it was written.

Nothing here is configured: the encoding (UTF-8 with or without BOM, UTF-16
with BOM, Windows-1252, ISO-8859-15) and the separator (`;` `,` tab `|`) are
read off the file itself. A file that cannot be decoded raises
`InputFileError` with the line of the first byte that does not fit.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from pathlib import Path

from recouvrement.ingest.errors import InputFileError

SEPARATORS = ";\t|,"  # in order of preference when two fit equally well
SNIFF_CHARS = 256 * 1024

# Bytes where ISO-8859-15 and Windows-1252 disagree on printable characters:
# in ISO-8859-15 they are € Š š Ž ž Œ œ Ÿ, in Windows-1252 rarely used signs.
_LATIN9_ONLY = frozenset(b"\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe")
_C1 = re.compile(rb"[\x80-\x9f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

# A field may legitimately be long (an address block), but not unbounded:
# validation quarantines anything longer than the ledger can hold.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def decode(path: Path, data: bytes) -> str:
    """The file's text; raises `InputFileError` when it is not text in a known encoding."""
    if not data.strip():
        raise InputFileError(path, "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked(path, data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise InputFileError(path, f"not valid UTF-16 text ({exc.reason})") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise InputFileError(path, "binary content, not a text export")
    try:
        return _checked(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        if any(b >= 0x80 for b in before):
            # Valid UTF-8 accents, then a byte that is not: two encodings in one file.
            raise InputFileError(path, f"line {_line_of(data, exc.start)}: mixes UTF-8 with "
                                       "another encoding; export it again in one encoding") from exc
    encoding = "cp1252"
    if not _C1.search(data) and any(b in _LATIN9_ONLY for b in data):
        encoding = "iso-8859-15"
    try:
        return _checked(path, data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"line {_line_of(data, exc.start)}: byte 0x{data[exc.start]:02x} is not a "
                  "character in UTF-8, Windows-1252 or ISO-8859-15") from exc


def _checked(path: Path, text: str) -> str:
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise InputFileError(path, f"line {line}: control character "
                                   f"U+{ord(bad.group()):04X}: binary content, not a text export")
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def sniff_separator(path: Path, text: str) -> str:
    """The separator that splits the first lines into the most rows of one same width."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS:
        sample = sample[:sample.rfind("\n") + 1] or sample
    best, best_score = None, (0, 0)
    for sep in SEPARATORS:
        if sep not in sample:
            continue
        widths = Counter()
        try:
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=sep):
                if any(cell.strip() for cell in row):
                    widths[len(row)] += 1
        except csv.Error:
            continue
        if not widths:
            continue
        width, rows = max(widths.items(), key=lambda item: (item[1], item[0]))
        score = (rows, width) if width >= 2 else (0, 0)
        if score > best_score:
            best, best_score = sep, score
    if best is None:
        raise InputFileError(path, "no column separator (; , tab or |) in the first lines")
    return best


def read_rows(path: Path, text: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """Every non-blank row and the line it ends on (quoted fields may span lines).

    Strict parsing first, because a lenient parser swallows the rest of the
    file into a quote that is never closed; a stray quote inside a field is
    then forgiven by a lenient second pass.
    """
    try:
        return _parse(text, sep, strict=True)
    except _RowError as exc:
        if exc.unclosed:
            raise InputFileError(path, f"line {exc.line}: a quoted field is never closed "
                                       "(the file is truncated or a quote is missing)") from exc
    try:
        return _parse(text, sep, strict=False)
    except _RowError as exc:
        raise InputFileError(path, f"line {exc.line}: {exc.message}") from exc


class _RowError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message
        self.unclosed = "unexpected end of data" in message


def _parse(text: str, sep: str, *, strict: bool) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=strict)
    rows, lines = [], []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(reader.line_num)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _RowError(start, str(exc)) from exc
    return rows, lines
