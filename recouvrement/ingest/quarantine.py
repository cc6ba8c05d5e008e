"""The rows that validation held back: list them, read them, export them, release them.

A quarantined row stays `open` until a later import settles it: `released`
when a valid row with the same key (invoice number, or account for a
customer) is ingested from a fixed export; `superseded` when a file of the
same name is dropped again (the new file's outcome replaces it: its bad rows
are quarantined again under the new import).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db.models import ImportBatch, QuarantinedRow
from recouvrement.adapters.private_files import private_dir, write_private

STATUSES = ("open", "released", "superseded")
# Cells that a spreadsheet would run as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row_key(kind: str, raw: dict, key: str | None = None) -> str | None:
    """What identifies a row across exports: its invoice number, or a customer's account."""
    if kind == "customers":
        value = raw.get("account") or None
        return f"customer:{value}"[:200] if value else None
    value = key if key is not None else raw.get("invoice_number")
    return f"invoice:{value}"[:200] if value else None


@dataclass
class Resolution:
    released: int = 0
    superseded: int = 0


def resolve(session: Session, *, up_to_id: int, batch: ImportBatch, good_keys: Iterable[str],
            actor: str) -> Resolution:
    """Close the open rows of earlier imports that this import fixed or replaced."""
    keys = set(good_keys)
    now = datetime.now(timezone.utc)
    rows = session.execute(
        select(QuarantinedRow.id, QuarantinedRow.row_key, QuarantinedRow.file_name,
               QuarantinedRow.line_number)
        .where(QuarantinedRow.status == "open", QuarantinedRow.id <= up_to_id)).all()
    outcome, events, changes = Resolution(), [], []
    for row in rows:
        if row.row_key is not None and row.row_key in keys:
            status, why = "released", f"ingested from {batch.file_name}"
            outcome.released += 1
        elif row.file_name == batch.file_name:
            status, why = "superseded", f"{batch.file_name} was dropped again"
            outcome.superseded += 1
        else:
            continue
        changes.append({"id": row.id, "status": status, "resolved_at": now,
                        "resolved_by_batch_id": batch.id})
        events.append(Event(f"quarantine.{status}", _account_of(row.row_key),
                            f"{row.file_name}:{row.line_number}",
                            {"why": why, "key": row.row_key, "import": batch.id}))
    if changes:
        session.execute(update(QuarantinedRow), changes)
        record(session, events, actor)
    return outcome


def _account_of(key: str | None) -> str | None:
    if key and key.startswith("customer:"):
        return key.removeprefix("customer:")[:64]
    return None


def list_rows(session: Session, *, status: str | None = "open", file: str | None = None,
              raw: bool = False) -> list[dict]:
    """The quarantined rows (open ones unless asked), oldest first; `raw` adds their fields."""
    query = select(QuarantinedRow).order_by(QuarantinedRow.id)
    if status:
        query = query.where(QuarantinedRow.status == status)
    if file:
        query = query.where(QuarantinedRow.file_name == file)
    return [_plain(row, raw) for row in session.scalars(query)]


def get_row(session: Session, row_id: int) -> dict | None:
    row = session.get(QuarantinedRow, row_id)
    return None if row is None else _plain(row, raw=True)


def _plain(row: QuarantinedRow, raw: bool) -> dict:
    plain = {
        "id": row.id, "file": row.file_name, "line": row.line_number,
        "key": (row.row_key or "").split(":", 1)[-1] or None, "status": row.status,
        "reasons": list(row.reasons), "quarantined_at": row.created_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }
    if raw:
        plain["raw"] = dict(row.raw)
    return plain


def neutralise(value: object) -> str:
    """A cell value safe to open in a spreadsheet: a leading formula sign is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(rows: list[dict], out) -> int:
    """Write the rows as a `;` CSV (UTF-8 with BOM, for Excel): where, why, then the raw fields."""
    raw_columns: list[str] = []
    for row in rows:
        for column in row["raw"]:
            if column not in raw_columns:
                raw_columns.append(column)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["id", "file", "line", "status", "reasons", *raw_columns])
    for row in rows:
        writer.writerow([row["id"], neutralise(row["file"]), row["line"], row["status"],
                         neutralise(" | ".join(row["reasons"])),
                         *(neutralise(row["raw"].get(c, "")) for c in raw_columns)])
    return len(rows)


def export_rows(rows: list[dict], path: Path, fmt: str = "csv") -> int:
    private_dir(path.parent)  # the rows hold debtors' data: owner-only
    if fmt == "json":
        write_private(path, json.dumps(rows, indent=2, ensure_ascii=False))
        return len(rows)
    buffer = io.StringIO()
    count = export_csv(rows, buffer)
    write_private(path, "\ufeff" + buffer.getvalue())
    return count
