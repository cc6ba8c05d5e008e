"""Ingest the inbox by hand, outside the daily flow: `recouvrement ingest`.

Useful to try a new accounting tool's export (naming its mapping profile or
Excel sheet) and read its quarantine before the next run sends anything.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from recouvrement.adapters.audit import current_actor
from recouvrement.ingest.load import IngestReport, ingest_inbox
from recouvrement.ingest.profiles import load_profiles
from recouvrement.ingest.sheets import WorkbookLimits


def ingest_now(settings, as_of: date, *, profile: str | None = None,
               sheet: str | None = None, export_date: date | None = None,
               confirm: tuple[str, ...] = ()) -> IngestReport:
    """One transaction: every new file is read first, and a bad one changes nothing.

    `confirm` names files (as listed) to take as they are although they would be held back.
    """
    from recouvrement.adapters.db import open_database

    database = open_database(settings.database_url)
    with database.session() as session:
        return ingest_inbox(session, Path(settings.inbox), actor=current_actor(), run_id=None,
                            today=as_of, home=Path(settings.home), profile=profile, sheet=sheet,
                            export_date=export_date, confirm=confirm,
                            limits=settings.hold_limits,
                            workbook_limits=WorkbookLimits.from_settings(settings))


def money(amounts: dict[str, str]) -> str:
    return " + ".join(f"{v} {c}" for c, v in amounts.items()) or "0.00"


def control_line(f: dict) -> str | None:
    """The control total of a file, as one line; None for a file without balances (customers)."""
    c = f.get("control")
    if not c:
        return None
    side = "411 balance in the file" if f["kind"] == "fec" else "open amount in the file"
    ledger = "the ledger would hold" if f.get("held") else "the ledger now holds"
    line = (f"  control: {side} {money(c['file_balance'])}, {ledger} "
            f"{money(c['ledger_balance'])}; {c['accounts']} account(s), {c['differ']} "
            f"account(s) differ")
    explained = c["differ"] - c["differ_not_explained"]
    if explained:
        line += f" ({explained} by rows in quarantine)"
    if c["not_compared"]:
        line += (f", {c['not_compared']} not compared (an amount unreadable, a later export "
                 "in the ledger, or shown by another file of the day too)")
    return line


def held_message(held: list[dict]) -> str:
    """What the user reads when files are held back: which, why, the command to type."""
    parts = []
    for h in held:
        parts.append(f"{h['file']}: held back, nothing from it was applied and nothing was "
                     f"settled by its absence: {'; '.join(h['reasons'])}. Fix the export and "
                     f"drop it again, or if it is right as it is: {h['confirm']}")
    return "\n".join(parts)


def describe(report: IngestReport) -> list[str]:
    lines = []
    for f in report.files:
        if f["skipped"]:
            lines.append(f"{f['file']}: already read, skipped")
            continue
        how = ", ".join(x for x in (f"profile {f['profile']}" if f.get("profile") else "",
                                    f"sheet {f['sheet']!r}" if f.get("sheet") else "") if x)
        ignored = f", {f['ignored']} not customer lines" if f.get("ignored") else ""
        state = ", HELD BACK (nothing loaded)" if f.get("held") else ""
        lines.append(f"{f['file']}{f' ({how})' if how else ''}: {f['rows']} rows, "
                     f"{f['loaded']} loaded, {f['quarantined']} quarantined{ignored}{state}")
        if control_line(f):
            lines.append(control_line(f))
        if f.get("confirmed_despite"):
            lines.append(f"  confirmed by you, applied although "
                         f"{'; '.join(f['confirmed_despite'])}")
        if f.get("summary_report"):
            lines.append(f"  report for the credit manager (French): {f['summary_report']}")
        if f.get("report"):
            lines.append(f"  validation report: {f['report']} (Great Expectations, for engineers)")
    for r in report.refused:
        lines.append(f"{r['file']}: not read, {r['reason']}")
    for q in report.quarantined:
        lines.append(f"  quarantined {q['file']} line {q['line']}: {'; '.join(q['reasons'])}")
    lines.extend(reading_notes(report.notes, report.imputations))
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


def reading_notes(notes: list[str], imputations: list[dict]) -> list[str]:
    """What the exports held that is no customer's, and the credits set against invoices."""
    lines = [f"  note {note}" for note in notes]
    kinds = {"payment": "payment", "credit_note": "credit note"}
    for i in imputations:
        lines.append(f"  {i['account']}: {kinds.get(i['credit_type'], i['credit_type'])} "
                     f"{i['credit']}, not lettered to an invoice, set against {i['invoice']} "
                     f"(the oldest due, Code civil 1342-10): {i['amount']} {i['currency']}")
    return lines


def profile_rows(home: Path) -> list[dict]:
    return [{"name": p.name, "exports": ",".join(sorted(p.kinds)), "label": p.label,
             "file": str(p.source)}
            for p in load_profiles(Path(home) / "profiles").values()]
