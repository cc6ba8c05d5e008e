"""Reminders as postal letters: PDFs in a print queue, with a manifest for the mailing service.

The queue is one folder per day under `$RECOUVREMENT_HOME/letters/`, each with
the PDFs and a `manifest.csv` that a mailing or e-registered-letter service
imports. Writing a letter twice (a retry) leaves one file and one manifest line.

A letter's file name is made by the queue, never taken from the debtor's data:
`<slug>-L<level>-<key>.pdf`, where the slug is the account cut down to ASCII
letters, digits, `-` and `_` (40 at most, for the reader's convenience) and
the key the first 12 characters of the reminder's key (which makes it
unique). Whatever an account holds (`../`, `/`, line breaks), the letter stays
in its day folder and the manifest names the file written. Files and folders
are owner-only (they hold personal data).
"""

from __future__ import annotations

import csv
import fcntl
import io
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Iterable

from recouvrement.adapters.private_files import open_private, private_dir, write_private

MANIFEST = "manifest.csv"
COLUMNS = ("reminder", "date", "account", "name", "address", "postcode", "city", "country",
           "level", "registered", "file")


def merge_pdfs(documents: Iterable[bytes]) -> bytes:
    """One PDF of several: a formal notice followed by copies of the earlier letters."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# The debtor-supplied free text of a manifest row: neutralised against formulas.
FREE_TEXT = ("name", "address", "postcode", "city", "country")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
SLUG_LENGTH = 40


def _safe_cell(value: object) -> str:
    """A spreadsheet must not run debtor-supplied text as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def slug(account: str) -> str:
    """The account as a piece of a file name: ASCII letters, digits, `-`, `_`; never empty."""
    ascii_text = unicodedata.normalize("NFKD", account).encode("ascii", "ignore").decode()
    cut = re.sub(r"[^A-Za-z0-9-]+", "_", ascii_text).strip("-_")[:SLUG_LENGTH].strip("-_")
    return cut or "debtor"


def letter_name(account: str, level: int, key: str) -> str:
    """The letter's file name, safe by construction (see the module's docstring)."""
    short = re.sub(r"[^0-9A-Za-z]", "", key)[:12]
    if not short:
        raise ValueError(f"a reminder key of letters and digits is needed, not {key!r}")
    return f"{slug(account)}-L{int(level)}-{short}.pdf"


class PrintQueue:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def add(self, *, day: date, key: str, pdf: bytes, account: str, name: str,
            address: str | None, postcode: str | None, city: str | None, country: str | None,
            level: int, registered: bool) -> Path:
        folder = private_dir(self.folder / day.isoformat())
        path = folder / letter_name(account, level, key)
        write_private(path, pdf)  # never a half-written letter in the queue
        # Shards may post at the same time: one writer of the manifest at a time.
        with open_private(folder / f".{MANIFEST}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._list(folder / MANIFEST, {
                "reminder": key, "date": day.isoformat(), "account": account, "name": name,
                "address": re.sub(r"\s*\r?\n\s*", ", ", (address or "").strip()),
                "postcode": postcode, "city": city, "country": country, "level": level,
                "registered": "yes" if registered else "no", "file": path.name})
        return path

    def holds(self, path: Path) -> bool:
        """Whether `path` is a letter of this queue (a formal notice copies only those)."""
        try:
            resolved, root = Path(path).resolve(), self.folder.resolve()
        except OSError:
            return False
        return root in resolved.parents and resolved.suffix == ".pdf"

    @staticmethod
    def _list(manifest: Path, row: dict) -> None:
        """Add the letter's row to the manifest, once, under a header.

        The free text is neutralised; the other columns are written as they are
        (the file name is safe by construction, a validated account cannot start
        like a formula). An account taken in before validation refused such
        values is neutralised too: no cell of the manifest runs as a formula.
        """
        if manifest.exists():
            with manifest.open(encoding="utf-8", newline="") as handle:
                if any(r["reminder"] == row["reminder"]
                       for r in csv.DictReader(handle, delimiter=";")):
                    return
        new = not manifest.exists()
        with open_private(manifest, "a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            if new:
                writer.writerow(COLUMNS)
            writer.writerow([_safe_cell(row[c]) if c in FREE_TEXT or c == "account"
                             else "" if row[c] is None else str(row[c]) for c in COLUMNS])
