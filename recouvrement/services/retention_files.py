"""After a retention purge is committed: erase the copies the product wrote outside the database.

- the registered letters' PDFs of the debtors erased;
- their rows of the print queue's `manifest.csv` files: name and address
  blanked, the account replaced by its pseudonym, the reminder key by its new
  keyed value, the file name emptied (the PDF is gone);
- the dossiers exported for them under `RECOUVREMENT_HOME` (those exported
  elsewhere are listed, to be erased by whoever holds them);
- their values (account, name, e-mail, phone, SIREN, address) in the
  validation reports, replaced by `(erased)`.

Quarantined rows' raw content is erased in the database with the rest.
"""

from __future__ import annotations

import csv
import fcntl
import html
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from recouvrement.services.retention import RetentionReport, delete_files

ERASED = "(erased)"
BLANKED = ("name", "address", "postcode", "city", "country", "file")


@dataclass
class FilesErased:
    letters: int = 0
    manifest_rows: int = 0
    dossiers: int = 0
    reports: int = 0
    elsewhere: list[str] = field(default_factory=list)  # exported outside the home


def erase_copies(report: RetentionReport, home: Path) -> FilesErased:
    done = FilesErased(letters=delete_files(report))
    if not report.pseudonyms:
        return done
    home = Path(home)
    for manifest in sorted((home / "letters").glob("*/manifest.csv")):
        done.manifest_rows += _scrub_manifest(manifest, report)
    root = home.resolve()
    for out in dict.fromkeys(report.exported):
        path = Path(out)
        if not path.exists() and not path.is_symlink():
            continue
        if root not in path.resolve().parents or path.is_symlink():
            done.elsewhere.append(out)
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        done.dossiers += 1
    for page in sorted((home / "reports").rglob("*.html")):
        done.reports += _scrub_report(page, report.values)
    return done


def _unquoted(cell: str) -> str:
    # The manifest may neutralise a cell a spreadsheet would run as a formula with a `'`.
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def _scrub_manifest(manifest: Path, report: RetentionReport) -> int:
    with (manifest.parent / f".{manifest.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the print queue's writers take the same lock
        text = manifest.read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        if not rows:
            return 0
        header = rows[0]
        at = {name: i for i, name in enumerate(header)}
        if "reminder" not in at:
            return 0
        changed = 0
        for row in rows[1:]:
            key = _unquoted(row[at["reminder"]]) if len(row) > at["reminder"] else ""
            if key not in report.rekeyed:
                continue
            row[at["reminder"]] = report.rekeyed[key]
            if "account" in at and len(row) > at["account"]:
                account = _unquoted(row[at["account"]])
                row[at["account"]] = report.pseudonyms.get(account, ERASED)
            for name in BLANKED:
                if name in at and len(row) > at[name]:
                    row[at[name]] = ""
            changed += 1
        if changed:
            out = io.StringIO(newline="")
            csv.writer(out, delimiter=";").writerows(rows)
            _replace(manifest, out.getvalue())
        return changed


def _scrub_report(page: Path, values: set[str]) -> int:
    text = page.read_text(encoding="utf-8")
    scrubbed = text
    for value in sorted(values, key=len, reverse=True):
        for form in {value, html.escape(value), html.escape(value, quote=False)}:
            scrubbed = scrubbed.replace(form, ERASED)
    if scrubbed == text:
        return 0
    _replace(page, scrubbed)
    return 1


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.erasing")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.replace(partial, path)
