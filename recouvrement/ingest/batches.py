"""Record what an import did with each file: the batch, its quarantined rows, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import ImportBatch, QuarantinedRow
from recouvrement.domain.reconciliation import Control
from recouvrement.ingest.columns import LINE, SHAPE
from recouvrement.ingest.readers import ExportFile
from recouvrement.ingest.quarantine import resolve, row_key

if TYPE_CHECKING:  # pandas and the validation come with a file to read, not with the report
    import pandas as pd

CHUNK = 10_000


@dataclass
class IngestReport:
    """What one ingest did, file by file (`ingest_inbox` returns it)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    debtors_created: int = 0
    debtors_updated: int = 0
    invoices_created: int = 0
    invoices_updated: int = 0
    invoices_settled: list[str] = field(default_factory=list)
    invoices_reopened: list[str] = field(default_factory=list)
    debtors_without_contact: list[str] = field(default_factory=list)  # created from a FEC
    quarantine_released: int = 0
    quarantine_superseded: int = 0
    # Credits not lettered to an invoice, set against the oldest ones (Code civil 1342-10).
    imputations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "file: what was read as no customer's"
    held: list[dict[str, Any]] = field(default_factory=list)  # files held back whole


@dataclass
class CheckedFile:
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
    control: Control | None = None  # the file's balances against the ledger's, once applied
    confirmed_despite: list[str] = field(default_factory=list)  # why it would have been held

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
        import pandas as pd

        from recouvrement.ingest.validation import clip

        columns = [c for c in rows.columns if c not in (LINE, SHAPE)]
        held = pd.DataFrame({
            LINE: rows[LINE].astype(int),
            "raw": [dict(zip(columns, map(clip, values)))
                    for values in rows[columns].itertuples(index=False)],
            "reasons": [[conflicts[lines[line]]] for line in rows[LINE]],
            "key": [lines[line] for line in rows[LINE]],
        })
        self.quarantined = pd.concat([self.quarantined, held], ignore_index=True)


def record_batch(session: Session, item: CheckedFile, report: IngestReport, actor: str,
                 run_id: str | None, quarantine_mark: int, report_path: Path | None,
                 batch_id: int | None = None) -> None:
    """The file was applied: its batch (`batch_id`: the one it was held under), its quarantine."""
    name = item.export.path.name
    kind = item.export.kind
    attrs = item.raw.attrs
    batch = _batch(session, item, batch_id, run_id, report_path)
    batch.status, batch.rows_loaded, batch.held_reasons = "loaded", item.loaded, None
    batch.confirmed_by = actor if item.confirmed_despite else None
    session.flush()
    _replace_held(session, batch)
    # The keys of every valid row (a million strings for a million invoices) are built only
    # when earlier rows wait in quarantine to be released by them.
    waiting = session.scalar(select(QuarantinedRow.id).where(
        QuarantinedRow.status == "open", QuarantinedRow.id <= quarantine_mark).limit(1))
    resolution = resolve(session, up_to_id=quarantine_mark, batch=batch,
                         good_keys=_good_keys(kind, item.good) if waiting is not None else (),
                         actor=actor)
    report.quarantine_released += resolution.released
    report.quarantine_superseded += resolution.superseded
    rows = _quarantine(session, item, batch)
    summary = _summary(item, report_path)
    report.files.append(summary)
    report.quarantined.extend({"file": name, "line": r["line_number"], "reasons": r["reasons"],
                               "raw": r["raw"]} for r in rows)
    events = []
    if item.confirmed_despite:
        events.append(Event(EventKind.FILE_CONFIRMED, subject=name[:200],
                            details={"sha256": item.export.sha256,
                                     "held_for": item.confirmed_despite}))
    events.append(Event(EventKind.FILE_LOADED, subject=name[:200],
                        details={"sha256": item.export.sha256, "kind": kind, "rows": item.rows,
                                 "loaded": item.loaded, "quarantined": len(item.quarantined),
                                 "ignored": item.ignored, "export_date": item.export_date,
                                 "profile": attrs.get("profile"), "sheet": attrs.get("sheet"),
                                 "control": summary["control"]}))
    events += [Event(EventKind.ROW_QUARANTINED, _account(r["raw"]),
                     f"{name}:{r['line_number']}"[:200], {"reasons": r["reasons"]}) for r in rows]
    record(session, events, actor)


def record_held(session: Session, item: CheckedFile, reasons: list[str], report: IngestReport,
                actor: str, run_id: str | None, quarantine_mark: int, report_path: Path | None,
                batch_id: int | None = None) -> None:
    """The file was held back whole: nothing of it applied, its quarantined rows kept.

    Its batch (`held`) is not `loaded`, so every ingest reads the file again.
    Its quarantined rows are recorded the first time it is held, with the
    batch, and stay listed (`quarantine list --file NAME`) until the file, or
    a fixed one of the same name, is loaded.
    """
    name = item.export.path.name
    batch = _batch(session, item, batch_id, run_id, report_path)
    batch.status, batch.rows_loaded, batch.held_reasons = "held", 0, list(reasons)
    session.flush()
    rows = []
    if batch_id is None:  # held for the first time: it replaces an earlier file of its name
        _replace_held(session, batch)
        report.quarantine_superseded += resolve(session, up_to_id=quarantine_mark, batch=batch,
                                                good_keys=(), actor=actor).superseded
        rows = _quarantine(session, item, batch)
    summary = {**_summary(item, report_path), "loaded": 0, "held": True, "reasons": reasons}
    report.files.append(summary)
    confirm = f"recouvrement ingest --confirm {_quoted(name)}"
    report.held.append({"file": name, "kind": item.export.kind,
                        "export_date": summary["export_date"], "reasons": reasons,
                        "control": summary["control"], "confirm": confirm})
    report.quarantined.extend({"file": name, "line": r["line_number"], "reasons": r["reasons"],
                               "raw": r["raw"]} for r in rows)
    events = [Event(EventKind.FILE_HELD, subject=name[:200],
                    details={"sha256": item.export.sha256, "kind": item.export.kind,
                             "export_date": item.export_date, "reasons": reasons,
                             "control": summary["control"], "first_time": batch_id is None})]
    events += [Event(EventKind.ROW_QUARANTINED, _account(r["raw"]),
                     f"{name}:{r['line_number']}"[:200], {"reasons": r["reasons"]}) for r in rows]
    record(session, events, actor)


def _replace_held(session: Session, batch: ImportBatch) -> None:
    """An earlier version of this file that was held back is replaced by this one."""
    session.execute(update(ImportBatch).where(
        ImportBatch.file_name == batch.file_name, ImportBatch.status == "held",
        ImportBatch.id != batch.id).values(status="replaced"))


def _batch(session: Session, item: CheckedFile, batch_id: int | None, run_id: str | None,
           report_path: Path | None) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id) if batch_id is not None else None
    if batch is None:
        batch = ImportBatch(file_name=item.export.path.name, file_kind=item.export.kind,
                            sha256=item.export.sha256)
        session.add(batch)
    attrs = item.raw.attrs
    batch.export_date, batch.rows_total = item.export_date, item.rows
    batch.rows_quarantined, batch.rows_ignored = len(item.quarantined), item.ignored
    batch.imported_at, batch.run_id = datetime.now(timezone.utc), run_id
    batch.profile, batch.sheet = attrs.get("profile"), attrs.get("sheet")
    batch.report_path = str(report_path) if report_path else None
    batch.control = item.control.as_dict() if item.control is not None else None
    return batch


def _quarantine(session: Session, item: CheckedFile, batch: ImportBatch) -> list[dict]:
    now = datetime.now(timezone.utc)
    kind, name = item.export.kind, item.export.path.name
    has_key = "key" in item.quarantined.columns
    rows = [{"batch_id": batch.id, "file_name": name, "line_number": int(q[LINE]),
             "raw": q["raw"], "reasons": q["reasons"], "created_at": now,
             "row_key": row_key(kind, q["raw"], q["key"] if has_key and q["key"] else None),
             "status": "open"}
            for q in item.quarantined.sort_values(LINE).to_dict("records")]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(QuarantinedRow), rows[start:start + CHUNK])
    return rows


def _summary(item: CheckedFile, report_path: Path | None) -> dict[str, Any]:
    attrs = item.raw.attrs
    return {"file": item.export.path.name, "kind": item.export.kind, "skipped": False,
            "rows": item.rows, "loaded": item.loaded, "quarantined": len(item.quarantined),
            "ignored": item.ignored, "profile": attrs.get("profile"), "sheet": attrs.get("sheet"),
            "report": str(report_path) if report_path else None,
            "export_date": item.export_date.isoformat() if item.export_date else None,
            "control": item.control.as_dict() if item.control is not None else None,
            "held": False, "confirmed_despite": list(item.confirmed_despite)}


def _quoted(name: str) -> str:
    """The file name as a shell reads it back."""
    import shlex

    return shlex.quote(name)


def _good_keys(kind: str, good: pd.DataFrame) -> set[str]:
    column, prefix = ("account", "customer:") if kind == "customers" else ("invoice_number", "invoice:")
    return {prefix + str(v) for v in good[column]} if len(good) else set()


def _account(raw: dict[str, Any]) -> str | None:
    value = raw.get("account") or raw.get("CompAuxNum") or raw.get("CompteNum") or None
    return value if isinstance(value, str) and len(value) <= 64 else None
