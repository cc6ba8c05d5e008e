"""Ingest the inbox by hand, outside the daily flow: `recouvrement ingest`.

Useful to try a new accounting tool's export (naming its mapping profile or
Excel sheet) and read its quarantine before the next run sends anything.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from recouvrement.audit import current_actor
from recouvrement.ingest.load import IngestReport, ingest_inbox
from recouvrement.ingest.profiles import load_profiles


def ingest_now(settings, as_of: date, *, profile: str | None = None,
               sheet: str | None = None) -> IngestReport:
    """One transaction: every new file is read first, and a bad one changes nothing."""
    from recouvrement.db import open_database

    database = open_database(settings.database_url)
    with database.session() as session:
        return ingest_inbox(session, Path(settings.inbox), actor=current_actor(), run_id=None,
                            today=as_of, home=Path(settings.home), profile=profile, sheet=sheet,
                            limits=settings.workbook_limits)


def describe(report: IngestReport) -> list[str]:
    lines = []
    for f in report.files:
        if f["skipped"]:
            lines.append(f"{f['file']}: already read, skipped")
            continue
        how = ", ".join(x for x in (f"profile {f['profile']}" if f.get("profile") else "",
                                    f"sheet {f['sheet']!r}" if f.get("sheet") else "") if x)
        ignored = f", {f['ignored']} not customer lines" if f.get("ignored") else ""
        lines.append(f"{f['file']}{f' ({how})' if how else ''}: {f['rows']} rows, "
                     f"{f['loaded']} loaded, {f['quarantined']} quarantined{ignored}")
        if f.get("summary_report"):
            lines.append(f"  report for the credit manager (French): {f['summary_report']}")
        if f.get("report"):
            lines.append(f"  validation report: {f['report']} (Great Expectations, for engineers)")
    for r in report.refused:
        lines.append(f"{r['file']}: not read, {r['reason']}")
    for q in report.quarantined:
        lines.append(f"  quarantined {q['file']} line {q['line']}: {'; '.join(q['reasons'])}")
    if report.debtors_without_contact:
        lines.append(f"debtors created from the FEC without contact details (letters, not "
                     f"e-mails, until a customers export completes them): "
                     f"{', '.join(report.debtors_without_contact)}")
    lines.append(f"debtors: {report.debtors_created} new, {report.debtors_updated} updated; "
                 f"invoices: {report.invoices_created} new, {report.invoices_updated} updated, "
                 f"{len(report.invoices_settled)} settled, {len(report.invoices_reopened)} reopened")
    if report.quarantine_released or report.quarantine_superseded:
        lines.append(f"quarantine: {report.quarantine_released} row(s) released, "
                     f"{report.quarantine_superseded} superseded by a file dropped again")
    return lines


def profile_rows(home: Path) -> list[dict]:
    return [{"name": p.name, "exports": ",".join(sorted(p.kinds)), "label": p.label,
             "file": str(p.source)}
            for p in load_profiles(Path(home) / "profiles").values()]
