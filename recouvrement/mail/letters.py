"""Reminders as postal letters: PDFs in a print queue, with a manifest for the mailing service.

The queue is one folder per day under `$RECOUVREMENT_HOME/letters/`, each with
the PDFs and a `manifest.csv` that a mailing or e-registered-letter service
imports. Writing a letter twice (a retry) leaves one file and one manifest line.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
from datetime import date
from pathlib import Path
from typing import Iterable

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


def _safe_cell(value: object) -> str:
    """A spreadsheet must not run debtor-supplied text as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class PrintQueue:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def add(self, *, day: date, key: str, pdf: bytes, account: str, name: str,
            address: str | None, postcode: str | None, city: str | None, country: str | None,
            level: int, registered: bool) -> Path:
        folder = self.folder / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{account}-L{level}-{key[:12]}.pdf"
        partial = path.with_suffix(".part")
        partial.write_bytes(pdf)
        os.replace(partial, path)  # never a half-written letter in the queue
        # Shards may post at the same time: one writer of the manifest at a time.
        with (folder / f".{MANIFEST}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._list(folder / MANIFEST, [
                key, day.isoformat(), account, name, (address or "").replace("\n", ", "),
                postcode, city, country, level, "yes" if registered else "no", path.name])
        return path

    @staticmethod
    def _list(manifest: Path, row: list) -> None:
        """Add the letter's row to the manifest, once, under a header."""
        if manifest.exists():
            with manifest.open(encoding="utf-8", newline="") as handle:
                if any(r["reminder"] == row[0] for r in csv.DictReader(handle, delimiter=";")):
                    return
        new = not manifest.exists()
        with manifest.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            if new:
                writer.writerow(COLUMNS)
            writer.writerow([_safe_cell(v) for v in row])
