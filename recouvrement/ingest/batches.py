"""Record what an import did with each file: the batch, its quarantined rows, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert
from sqlalchemy.orm import Session

from recouvrement.audit import Event, record
from recouvrement.db.models import ImportBatch, QuarantinedRow
from recouvrement.ingest.columns import LINE, SHAPE
from recouvrement.ingest.readers import ExportFile
from recouvrement.ingest.validation import clip
from recouvrement.quarantine import resolve, row_key

if TYPE_CHECKING:
    from recouvrement.ingest.load import IngestReport

CHUNK = 10_000


@dataclass
class Checked:
    """One file after validation: its valid rows and its quarantined ones."""

    export: ExportFile
    raw: pd.DataFrame
    good: pd.DataFrame
    quarantined: pd.DataFrame  # _line, raw, reasons (and key for a FEC)
    rows: int
    ignored: int = 0
    export_date: date | None = None
    numbers_seen: set[str] = field(default_factory=set)
    lines_of: dict[str, list[int]] | None = None  # FEC: invoice number -> its lines
    validations: list = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.rows - len(self.quarantined) - self.ignored

    def hold(self, conflicts: dict[str, str]) -> None:
        """Move the rows of these invoice numbers from the valid ones to quarantine."""
        numbers = set(conflicts)
        mine = self.good["invoice_number"].isin(numbers)
        if self.lines_of is None:
            lines = dict(zip(self.good.loc[mine, LINE], self.good.loc[mine, "invoice_number"]))
        else:
            lines = {line: n for n in numbers for line in self.lines_of.get(n, ())}
        self.good = self.good.loc[~mine]
        rows = self.raw.loc[self.raw[LINE].isin(list(lines))]
        columns = [c for c in rows.columns if c not in (LINE, SHAPE)]
        held = pd.DataFrame({
            LINE: rows[LINE].astype(int),
            "raw": [dict(zip(columns, map(clip, values)))
                    for values in rows[columns].itertuples(index=False)],
            "reasons": [[conflicts[lines[line]]] for line in rows[LINE]],
            "key": [lines[line] for line in rows[LINE]],
        })
        self.quarantined = pd.concat([self.quarantined, held], ignore_index=True)


def record_batch(session: Session, item: Checked, report: IngestReport, actor: str,
                 run_id: str | None, quarantine_mark: int, report_path: Path | None) -> None:
    now = datetime.now(timezone.utc)
    name = item.export.path.name
    kind = item.export.kind
    attrs = item.raw.attrs
    batch = ImportBatch(
        file_name=name, file_kind=kind, sha256=item.export.sha256,
        export_date=item.export_date, rows_total=item.rows, rows_loaded=item.loaded,
        rows_quarantined=len(item.quarantined), rows_ignored=item.ignored, imported_at=now,
        run_id=run_id, profile=attrs.get("profile"), sheet=attrs.get("sheet"),
        report_path=str(report_path) if report_path else None)
    session.add(batch)
    session.flush()
    resolution = resolve(session, up_to_id=quarantine_mark, batch=batch,
                         good_keys=_good_keys(kind, item.good), actor=actor)
    report.quarantine_released += resolution.released
    report.quarantine_superseded += resolution.superseded

    has_key = "key" in item.quarantined.columns
    rows = [{"batch_id": batch.id, "file_name": name, "line_number": int(q[LINE]),
             "raw": q["raw"], "reasons": q["reasons"], "created_at": now,
             "row_key": row_key(kind, q["raw"], q["key"] if has_key and q["key"] else None),
             "status": "open"}
            for q in item.quarantined.sort_values(LINE).to_dict("records")]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(QuarantinedRow), rows[start:start + CHUNK])
    summary = {"file": name, "kind": kind, "skipped": False, "rows": item.rows,
               "loaded": item.loaded, "quarantined": len(item.quarantined),
               "ignored": item.ignored, "profile": attrs.get("profile"),
               "sheet": attrs.get("sheet"), "report": str(report_path) if report_path else None}
    report.files.append(summary)
    report.quarantined.extend({"file": name, "line": r["line_number"], "reasons": r["reasons"],
                               "raw": r["raw"]} for r in rows)
    events = [Event("import.file_loaded", subject=name[:200],
                    details={"sha256": item.export.sha256, "kind": kind, "rows": item.rows,
                             "loaded": item.loaded, "quarantined": len(item.quarantined),
                             "ignored": item.ignored, "export_date": item.export_date,
                             "profile": attrs.get("profile"), "sheet": attrs.get("sheet")})]
    events += [Event("import.row_quarantined", _account(r["raw"]),
                     f"{name}:{r['line_number']}"[:200], {"reasons": r["reasons"]}) for r in rows]
    record(session, events, actor)


def _good_keys(kind: str, good: pd.DataFrame) -> set[str]:
    column, prefix = ("account", "customer:") if kind == "customers" else ("invoice_number", "invoice:")
    return {prefix + str(v) for v in good[column]} if len(good) else set()


def _account(raw: dict[str, Any]) -> str | None:
    value = raw.get("account") or raw.get("CompAuxNum") or raw.get("CompteNum") or None
    return value if isinstance(value, str) and len(value) <= 64 else None
