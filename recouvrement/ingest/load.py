"""Bring the inbox's new exports into the ledger, in one transaction.

Every file is read and checked before anything is written; a file known by
its content hash is skipped; valid rows update the ledger, the others go to
quarantine; an open invoice missing from a later snapshot is settled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from recouvrement.audit import Event, record
from recouvrement.db.models import Debtor, ImportBatch, Invoice, QuarantinedRow
from recouvrement.ingest.readers import LINE, ExportFile, discover, read_export
from recouvrement.ingest.validation import check_customers, check_invoices, export_date_of

DEBTOR_FIELDS = ("name", "email", "phone", "kind", "siren", "language", "address", "postcode",
                 "city", "country", "payment_terms_days", "collective_proceedings_since",
                 "blocked")
CHUNK = 10_000


@dataclass
class IngestReport:
    files: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    debtors_created: int = 0
    debtors_updated: int = 0
    invoices_created: int = 0
    invoices_updated: int = 0
    invoices_settled: list[str] = field(default_factory=list)
    invoices_reopened: list[str] = field(default_factory=list)


@dataclass
class _Checked:
    export: ExportFile
    good: pd.DataFrame
    quarantined: pd.DataFrame
    rows: int
    export_date: date | None = None
    numbers_seen: set[str] = field(default_factory=set)


def ingest_inbox(session: Session, inbox: Path, *, actor: str, run_id: str | None,
                 today: date) -> IngestReport:
    report = IngestReport()
    known = set(session.scalars(select(ImportBatch.sha256)))
    pending, hashes = [], set()
    for export in discover(inbox):
        if export.sha256 in known or export.sha256 in hashes:
            report.files.append({"file": export.path.name, "kind": export.kind, "skipped": True})
            continue
        hashes.add(export.sha256)
        pending.append((export, read_export(export)))  # raises before any write

    accounts = set(session.scalars(select(Debtor.account)))
    checked: list[_Checked] = []
    for export, raw in pending:
        if export.kind == "customers":
            result = check_customers(raw)
            item = _Checked(export, result.good, result.quarantined, len(raw))
            fields = [f for f in DEBTOR_FIELDS if f in raw.attrs.get("present", DEBTOR_FIELDS)]
            _upsert_debtors(session, item.good, fields, report, actor)
            accounts |= set(item.good["account"])
        else:
            result = check_invoices(raw, accounts)
            item = _Checked(export, result.good, result.quarantined, len(raw),
                            export_date_of(result.good, today),
                            set(raw["invoice_number"]) - {""})
        checked.append(item)

    by_date: dict[date, list[_Checked]] = defaultdict(list)
    for item in checked:
        if item.export.kind == "invoices":
            by_date[item.export_date].append(item)
    for export_date in sorted(by_date):
        items = by_date[export_date]
        good = pd.concat([i.good for i in items], ignore_index=True)
        seen = set().union(*(i.numbers_seen for i in items))
        _apply_snapshot(session, good, seen, export_date, report, actor)

    for item in checked:
        _record_batch(session, item, report, actor, run_id)
    return report


def _upsert_debtors(session: Session, good: pd.DataFrame, fields: list[str],
                    report: IngestReport, actor: str) -> None:
    """Create new debtors; update known ones from the columns the file has."""
    existing = {d.account: d for d in session.scalars(
        select(Debtor).where(Debtor.account.in_(list(good["account"]))))} if len(good) else {}
    now = datetime.now(timezone.utc)
    events, new_rows = [], []
    for row in good.itertuples(index=False):
        debtor = existing.get(row.account)
        if debtor is None:
            values = {f: _clean(getattr(row, f)) for f in DEBTOR_FIELDS}
            new_rows.append({"account": row.account, **values, "updated_at": now})
            events.append(Event("debtor.created", row.account))
            continue
        values = {f: _clean(getattr(row, f)) for f in fields}
        changes = {f: [getattr(debtor, f), v] for f, v in values.items() if getattr(debtor, f) != v}
        if changes:
            for f, (_old, new) in changes.items():
                setattr(debtor, f, new)
            debtor.updated_at = now
            events.append(Event("debtor.updated", row.account, details={"changes": changes}))
            report.debtors_updated += 1
    for start in range(0, len(new_rows), CHUNK):
        session.execute(insert(Debtor), new_rows[start:start + CHUNK])
    report.debtors_created += len(new_rows)
    session.flush()
    record(session, events, actor)


def _clean(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _apply_snapshot(session: Session, good: pd.DataFrame, seen: set[str], export_date: date,
                    report: IngestReport, actor: str) -> None:
    debtor_ids = dict(session.execute(select(Debtor.account, Debtor.id)).all())
    columns = (Invoice.id, Invoice.number, Invoice.debtor_id, Invoice.amount,
               Invoice.open_amount, Invoice.status, Invoice.last_seen_on, Invoice.due_date)
    # The open invoices, plus the settled ones this snapshot lists again: the
    # ledger's history of settled invoices is never loaded as a whole.
    current = {row.number: row for row in session.execute(
        select(*columns).where(Invoice.status == "open"))}
    others = [n for n in good["invoice_number"] if n not in current]
    for start in range(0, len(others), CHUNK):
        current.update((row.number, row) for row in session.execute(
            select(*columns).where(Invoice.number.in_(others[start:start + CHUNK]))))
    accounts = {v: k for k, v in debtor_ids.items()}
    events, inserts, updates = [], [], []
    for row in good.itertuples(index=False):
        status = "open" if row.open_amount > 0 else "settled"
        old = current.get(row.invoice_number)
        if old is None:
            inserts.append({
                "number": row.invoice_number, "debtor_id": debtor_ids[row.account],
                "issue_date": row.issue_date, "due_date": row.due_date, "amount": row.amount,
                "open_amount": row.open_amount, "currency": row.currency, "status": status,
                "last_seen_on": export_date,
                "settled_on": export_date if status == "settled" else None,
            })
            continue
        if old.last_seen_on is not None and old.last_seen_on > export_date:
            continue  # an older snapshot dropped late must not undo a newer one
        change = {"id": old.id, "last_seen_on": export_date}
        if row.amount != old.amount:
            change["amount"] = row.amount
            events.append(Event("invoice.amount_changed", row.account, row.invoice_number,
                                {"from": old.amount, "to": row.amount, "export_date": export_date}))
        if row.due_date != old.due_date:
            change["due_date"] = row.due_date
        if row.open_amount != old.open_amount:
            change["open_amount"] = row.open_amount
            if 0 < row.open_amount < old.open_amount:
                change["last_payment_on"] = export_date  # a part paid: limitation restarts
            events.append(Event("invoice.open_amount_changed", row.account, row.invoice_number,
                                {"from": old.open_amount, "to": row.open_amount,
                                 "export_date": export_date}))
        if status != old.status:
            change["status"] = status
            change["settled_on"] = export_date if status == "settled" else None
            if status == "settled":
                report.invoices_settled.append(row.invoice_number)
                events.append(Event("invoice.settled", row.account, row.invoice_number,
                                    {"why": "open amount 0 in the export", "export_date": export_date}))
            else:
                report.invoices_reopened.append(row.invoice_number)
                events.append(Event("invoice.reopened", row.account, row.invoice_number,
                                    {"open_amount": row.open_amount, "export_date": export_date}))
        updates.append(change)

    for number, old in current.items():
        if (old.status == "open" and number not in seen
                and (old.last_seen_on is None or old.last_seen_on < export_date)):
            updates.append({"id": old.id, "status": "settled", "settled_on": export_date,
                            "open_amount": 0})
            report.invoices_settled.append(number)
            events.append(Event("invoice.settled", accounts.get(old.debtor_id), number,
                                {"why": "absent from the export", "export_date": export_date,
                                 "open_amount_before": old.open_amount}))

    for start in range(0, len(inserts), CHUNK):
        session.execute(insert(Invoice), inserts[start:start + CHUNK])
    for start in range(0, len(updates), CHUNK):
        session.execute(update(Invoice), updates[start:start + CHUNK])
    report.invoices_created += len(inserts)
    report.invoices_updated += len(updates)
    record(session, events, actor)


def _record_batch(session: Session, item: _Checked, report: IngestReport, actor: str,
                  run_id: str | None) -> None:
    now = datetime.now(timezone.utc)
    name = item.export.path.name
    batch = ImportBatch(
        file_name=name, file_kind=item.export.kind, sha256=item.export.sha256,
        export_date=item.export_date, rows_total=item.rows, rows_loaded=len(item.good),
        rows_quarantined=len(item.quarantined), imported_at=now, run_id=run_id)
    session.add(batch)
    session.flush()
    rows = [{"batch_id": batch.id, "file_name": name, "line_number": int(q[LINE]),
             "raw": q["raw"], "reasons": q["reasons"], "created_at": now}
            for q in item.quarantined.to_dict("records")]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(QuarantinedRow), rows[start:start + CHUNK])
    report.files.append({"file": name, "kind": item.export.kind, "skipped": False,
                         "rows": item.rows, "loaded": len(item.good),
                         "quarantined": len(item.quarantined)})
    report.quarantined.extend({"file": name, "line": r["line_number"], "reasons": r["reasons"],
                               "raw": r["raw"]} for r in rows)
    events = [Event("import.file_loaded", subject=name,
                    details={"sha256": item.export.sha256, "kind": item.export.kind,
                             "rows": item.rows, "loaded": len(item.good),
                             "quarantined": len(item.quarantined),
                             "export_date": item.export_date})]
    events += [Event("import.row_quarantined", r["raw"].get("account") or None, f"{name}:{r['line_number']}",
                     {"reasons": r["reasons"]}) for r in rows]
    record(session, events, actor)
