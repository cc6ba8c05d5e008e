"""Bring the inbox's new exports into the ledger, in one transaction.

Every file is read and checked before anything is written; a file known by
its content hash is skipped; valid rows update the ledger, the others go to
quarantine; an open invoice missing from a later snapshot is settled.

Each file's control total (its own balances against the ledger's, see
`domain/reconciliation.py`) and the snapshot's settlements by absence are
checked on the ledger as it would be, inside a savepoint: a file that fails
is held back whole and the day is applied again without it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # pandas is imported by the readers, when there is a file to read
    import pandas as pd

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.domain.dossier import CLOSED
from recouvrement.domain.snapshot import (
    is_older_snapshot,
    restarts_limitation,
    settled_by_absence,
    status_of,
)
from recouvrement.adapters.db.models import (
    Debtor,
    ImportBatch,
    Invoice,
    LitigationDossier,
    QuarantinedRow,
)
from recouvrement.domain.reconciliation import (
    Absence,
    Control,
    HoldLimits,
    absence_hold_reasons,
    compare,
    control_hold_reasons,
)
from recouvrement.ingest.batches import IngestReport
from recouvrement.ingest.columns import LINE
from recouvrement.ingest.file_hashes import FileHashes
from recouvrement.ingest.profiles import Profile, load_profiles
from recouvrement.ingest.readers import ExportFile, discover
from recouvrement.ingest.sheets import WorkbookLimits

if TYPE_CHECKING:
    from recouvrement.ingest.batches import CheckedFile
    from recouvrement.ingest.reconcile import Imputation

# What reads, checks and records a new file (pandas, Great Expectations, Jinja2) is
# imported by the functions that do it, when the inbox has a new file: a rerun with
# nothing new imports none of it.

DEBTOR_FIELDS = ("name", "email", "phone", "kind", "siren", "language", "address", "postcode",
                 "city", "country", "payment_terms_days", "collective_proceedings_since",
                 "blocked", "legal_form", "trader")
CHUNK = 10_000
AUTO = object()  # `home`: the home folder of the settings whose inbox this is
_ORDER = {"customers": 0, "fec": 1, "invoices": 2}  # a FEC may create debtors invoices use


class NothingToConfirm(ValueError):
    """`--confirm` named a file that is not in the inbox waiting to be read."""


@dataclass
class Held:
    """A file held back whole in this ingest: nothing of it applied."""

    item: CheckedFile
    reasons: list[str]
    # Entries named like exports that are not regular files (links, pipes...): never read.
    refused: list[dict[str, str]] = field(default_factory=list)


def ingest_inbox(session: Session, inbox: Path, *, actor: str, run_id: str | None,
                 today: date, home: Path | None | Any = AUTO, profile: str | None = None,
                 sheet: str | None = None, export_date: date | None = None,
                 confirm: Iterable[str] = (), limits: HoldLimits | None = None,
                 workbook_limits: WorkbookLimits = WorkbookLimits()) -> IngestReport:
    """Read every new export of the inbox, then bring what is valid into the ledger.

    `home` holds the creditor's own mapping profiles (`profiles/`) and receives
    the validation reports (`reports/validation/`); by default it is the home
    of the settings whose inbox this is, and none for another folder.
    `profile` and `sheet` name the mapping profile and the Excel sheet for
    every new file instead of choosing them from the header row;
    `export_date` the day a new FEC was exported, when its name and entries
    do not tell it.

    A file whose control total does not reconcile, whose customer rows go to
    quarantine above `limits`, or whose snapshot would settle too much by
    absence is held back whole (`IngestReport.held`): the day is applied
    without it, inside a savepoint, again, so that nothing of it stays; its
    quarantined rows are recorded and it is read again by every ingest until
    it is fixed, or confirmed by naming it in `confirm`.
    `workbook_limits` are the sizes beyond which a workbook is refused unread.
    """
    home = home_of(inbox) if home is AUTO else home
    limits = limits or _limits()
    profiles = load_profiles(home / "profiles" if home else None)
    report = IngestReport()
    batches = {sha: (batch_id, status) for sha, batch_id, status in session.execute(
        select(ImportBatch.sha256, ImportBatch.id, ImportBatch.status))}
    pending, hashes, skipped = [], set(), []
    exports = discover(inbox, skipped, FileHashes.of_home(home))
    report.refused = [{"file": s.name, "reason": s.reason} for s in skipped]
    for export in exports:
        known = batches.get(export.sha256)
        if (known and known[1] == "loaded") or export.sha256 in hashes:
            report.files.append({"file": export.path.name, "kind": export.kind, "skipped": True})
            continue
        hashes.add(export.sha256)
        pending.append((export, _read(export, today, profile, sheet, profiles,
                                      export_date, workbook_limits)))  # raises before any write
    confirmed = _confirmed(pending, set(confirm), report)
    if not pending:
        return report

    quarantine_mark = session.scalar(select(func.max(QuarantinedRow.id))) or 0
    held: dict[str, Held] = {}
    balances: dict[str, tuple] = {}  # sha256 -> the file's own balances, read once
    while True:
        attempt = IngestReport()
        savepoint = session.begin_nested()
        checked, new = _apply_files(session, pending, held, confirmed, today, limits, attempt,
                                    actor, balances)
        if not new:
            savepoint.commit()
            break
        savepoint.rollback()  # and again without them: nothing of a held file is applied
        held.update(new)
    _merge(report, attempt)

    from recouvrement.ingest.batches import record_batch, record_held
    from recouvrement.ingest.report import report_folder, write_report

    folder = report_folder(home)
    for item in checked:
        path = write_report(item.validations, folder, item.export.path.name, item.export.sha256)
        existing = batches.get(item.export.sha256)
        record_batch(session, item, report, actor, run_id, quarantine_mark, path,
                     batch_id=existing[0] if existing else None)
        _french_report(item, folder, path, profiles, report.files[-1])
    for hold in held.values():
        item = hold.item
        path = write_report(item.validations, folder, item.export.path.name, item.export.sha256)
        existing = batches.get(item.export.sha256)
        record_held(session, item, hold.reasons, report, actor, run_id, quarantine_mark, path,
                    batch_id=existing[0] if existing else None)
        _french_report(item, folder, path, profiles, report.files[-1])
    return report


def _french_report(item: CheckedFile, folder, path, profiles, summary: dict) -> None:
    """The credit manager's page, with the control total and, for a held file, why and how."""
    from recouvrement.ingest.control import controls_fr
    from recouvrement.ingest.manager_report import report_file

    summary["controls"] = controls_fr(summary)
    report_file(item, folder, path, profiles, summary)  # the French page
    del summary["controls"]  # worded for the page only; the summary keeps the figures


def _limits() -> HoldLimits:
    from recouvrement.config.settings import load_settings

    return load_settings().hold_limits


def _confirmed(pending: list, names: set[str], report: IngestReport) -> set[str]:
    """The content hashes of the files the user confirmed, by the names listed."""
    by_name = {export.path.name: export.sha256 for export, _raw in pending}
    unknown = sorted(names - set(by_name))
    if unknown:
        loaded = {f["file"] for f in report.files if f.get("skipped")}
        why = ", ".join(f"{n} ({'already read' if n in loaded else 'not in the inbox'})"
                        for n in unknown)
        waiting = ", ".join(sorted(by_name)) or "none"
        raise NothingToConfirm(f"nothing to confirm: {why}; files waiting to be read: {waiting}")
    return {by_name[n] for n in names}


def _merge(report: IngestReport, attempt: IngestReport) -> None:
    skipped = report.files
    for name in report.__dataclass_fields__:
        setattr(report, name, getattr(attempt, name))
    report.files = skipped + attempt.files


def _apply_files(session: Session, pending: list, held: dict[str, Held], confirmed: set[str],
                 today: date, limits: HoldLimits, report: IngestReport, actor: str,
                 balances: dict[str, tuple]) -> tuple[list[CheckedFile], dict[str, Held]]:
    """One try at the day: every file but the held ones; the files to hold back, if any."""
    from recouvrement.ingest.batches import CheckedFile
    from recouvrement.ingest.fec_items import check_fec
    from recouvrement.ingest.reconcile import impute_credits, merge_same_day
    from recouvrement.ingest.validation import check_customers, check_invoices, export_date_of

    accounts = set(session.scalars(select(Debtor.account)))
    checked: list[CheckedFile] = []
    for export, raw in sorted(pending, key=lambda p: _ORDER[p[0].kind]):
        if export.sha256 in held:
            continue
        results: list = []
        if export.kind == "customers":
            result = check_customers(raw, results)
            item = CheckedFile(export, raw, result.good, result.quarantined, len(raw))
            fields = [f for f in DEBTOR_FIELDS if f in raw.attrs.get("present", DEBTOR_FIELDS)]
            _upsert_debtors(session, item.good, fields, report, actor)
            accounts |= set(item.good["account"])
        elif export.kind == "fec":
            as_of = raw.attrs["export_date"]
            terms = dict(session.execute(select(Debtor.account, Debtor.payment_terms_days)).all())
            result = check_fec(raw, as_of, accounts, terms, results)
            _create_fec_debtors(session, result.new_debtors, report, actor)
            accounts |= set(result.new_debtors["account"])
            item = CheckedFile(export, raw, result.good, result.quarantined, result.lines_total,
                           ignored=result.lines_ignored, export_date=as_of,
                           numbers_seen=result.numbers_seen, lines_of=result.lines_of)
            report.notes.extend(f"{export.path.name}: {note}" for note in result.notes)
        else:
            result = check_invoices(raw, accounts, results)
            item = CheckedFile(export, raw, result.good, result.quarantined, len(raw),
                           export_date=export_date_of(result.good, today),
                           numbers_seen=set(raw["invoice_number"]) - {""})
        item.validations = results
        checked.append(item)

    by_date: dict[date, list[CheckedFile]] = defaultdict(list)
    for item in checked:
        if item.export.kind != "customers":
            by_date[item.export_date].append(item)
    # What a held file lists is not settled by the absence from the others.
    kept_open = set().union(*(h.item.numbers_seen for h in held.values()))
    for export_date in sorted(by_date):
        items = by_date[export_date]
        day = merge_same_day([(i, it.export.path.name, it.good, it.export.kind == "fec")
                              for i, it in enumerate(items)])
        for i, conflicts in day.conflicts.items():
            items[i].hold(conflicts)
        good, imputations = impute_credits(day.rows)
        report.imputations.extend(i.as_dict() for i in imputations)
        seen = set().union(*(i.numbers_seen for i in items)) | kept_open
        absence = _apply_snapshot(session, good, seen, export_date, report, actor, imputations)
        snapshot_reasons = absence_hold_reasons(absence, limits)
        new: dict[str, Held] = {}
        shown = [set(_file_balances(item, balances)[0]) for item in items]
        for index, item in enumerate(items):
            shared = set().union(*(p for j, p in enumerate(shown) if j != index)) & shown[index]
            item.control = _control(session, item, balances, shared)
            reasons = control_hold_reasons(item.control, limits) + snapshot_reasons
            if reasons and item.export.sha256 in confirmed:
                item.confirmed_despite = reasons
            elif reasons:
                new[item.export.sha256] = Held(item, reasons)
        if new:
            return checked, new
    return checked, {}


def _file_balances(item: CheckedFile, balances: dict[str, tuple]) -> tuple[dict, set[int]]:
    """The file's own balances and its customer lines, read once per file."""
    from recouvrement.ingest.control import fec_balances, invoice_balances

    sha = item.export.sha256
    if sha not in balances:
        if item.export.kind == "fec":
            file, customer = fec_balances(item.raw)
            lines = set(item.raw.loc[customer, LINE])
        else:
            file = invoice_balances(item.raw)
            lines = set(item.raw[LINE])
        balances[sha] = (file, lines)
    return balances[sha]


def _control(session: Session, item: CheckedFile, balances: dict[str, tuple],
             shared: set[tuple[str, str]]) -> Control:
    """The file's own balances against what the ledger now holds for its accounts."""
    from recouvrement.ingest.control import ledger_balances, quarantined_accounts

    file, lines = _file_balances(item, balances)
    quarantined_rows = int(item.quarantined[LINE].isin(list(lines)).sum()) \
        if len(item.quarantined) else 0
    accounts = {a for a, _ in file}
    ledger, newer = ledger_balances(session, accounts, item.export_date, item.numbers_seen)
    return compare(file, ledger, quarantined_accounts(item.raw, item.quarantined,
                                                      item.export.kind),
                   newer, len(lines), quarantined_rows, shared)


def home_of(inbox: Path) -> Path | None:
    """The home folder of the settings whose inbox this is; None for any other folder."""
    from recouvrement.config.settings import load_settings

    settings = load_settings()
    try:
        same = Path(settings.inbox).resolve() == inbox.resolve()
    except OSError:
        return None
    return settings.home if same else None


def _read(export: ExportFile, today: date, profile: str | None, sheet: str | None,
          profiles: dict[str, Profile], export_date: date | None = None,
          workbook_limits: WorkbookLimits = WorkbookLimits()) -> pd.DataFrame:
    from recouvrement.ingest.fec import export_date_of_fec, read_fec
    from recouvrement.ingest.readers import read_export

    if export.kind == "fec":
        raw = read_fec(export.path)
        raw.attrs["export_date"] = export_date_of_fec(export.path, today, raw, export_date)
        return raw
    return read_export(export, today=today, profile=profile, sheet=sheet, profiles=profiles,
                       limits=workbook_limits)


def _create_fec_debtors(session: Session, new: pd.DataFrame, report: IngestReport,
                        actor: str) -> None:
    """Customers known only from a FEC: named by CompAuxLib, contact details to complete."""
    if new.empty:
        return
    now = datetime.now(timezone.utc)
    rows = [{"account": a, "name": n, "kind": "B2B", "language": "fr", "payment_terms_days": 30,
             "blocked": False, "contact_missing": True, "updated_at": now}
            for a, n in zip(new["account"], new["name"])]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Debtor), rows[start:start + CHUNK])
    report.debtors_created += len(rows)
    report.debtors_without_contact.extend(new["account"])
    session.flush()
    record(session, [Event(EventKind.DEBTOR_CREATED, r["account"],
                           details={"source": "FEC CompAuxLib", "contact_missing": True,
                                    "kind": "B2B (assumed)", "payment_terms_days": 30})
                     for r in rows], actor)


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
            events.append(Event(EventKind.DEBTOR_CREATED, row.account))
            continue
        values = {f: _clean(getattr(row, f)) for f in fields}
        if debtor.contact_missing:  # a customers file now completes a debtor seen in a FEC
            values["contact_missing"] = False
        changes = {f: [getattr(debtor, f), v] for f, v in values.items() if getattr(debtor, f) != v}
        if changes:
            for f, (_old, new) in changes.items():
                setattr(debtor, f, new)
            debtor.updated_at = now
            events.append(Event(EventKind.DEBTOR_UPDATED, row.account,
                                details={"changes": changes}))
            report.debtors_updated += 1
    for start in range(0, len(new_rows), CHUNK):
        session.execute(insert(Debtor), new_rows[start:start + CHUNK])
    report.debtors_created += len(new_rows)
    session.flush()
    record(session, events, actor)


def _clean(value: Any) -> Any:
    if value is None or type(value).__name__ == "NaTType":  # pandas' NaT
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _apply_snapshot(session: Session, good: pd.DataFrame, seen: set[str], export_date: date,
                    report: IngestReport, actor: str,
                    imputations: list[Imputation] | None = None) -> Absence:
    """Apply one day's snapshot; what it settles by absence, and the open amount before it."""
    debtor_ids = dict(session.execute(select(Debtor.account, Debtor.id)).all())
    columns = (Invoice.id, Invoice.number, Invoice.debtor_id, Invoice.amount,
               Invoice.open_amount, Invoice.status, Invoice.last_seen_on, Invoice.due_date,
               Invoice.currency, Invoice.document_type, Invoice.set_off, Invoice.dossier_id)
    set_off = defaultdict(list)  # invoice or credit number -> what was set off against it
    for i in imputations or ():
        set_off[i.invoice].append({"credit": i.credit, "amount": i.amount})
        set_off[i.credit].append({"invoice": i.invoice, "amount": i.amount})
    # One pass over the open invoices and credits, before anything changes: what the
    # ledger owed, and which of them this snapshot no longer lists (settled by absence).
    # Only those are kept; the others are compared chunk by chunk of the snapshot, so
    # the ledger's rows are never all held at once.
    absence = Absence()
    absent: list[int] = []
    for invoice_id, number, status, currency, open_amount in session.execute(
            select(Invoice.id, Invoice.number, Invoice.status, Invoice.currency,
                   Invoice.open_amount).where(Invoice.status.in_(("open", "credit"))),
            execution_options={"yield_per": CHUNK}):
        if status == "open":
            absence.open_before[currency] = absence.open_before.get(currency, 0) + open_amount
        if number not in seen:
            absent.append(invoice_id)
    accounts = {v: k for k, v in debtor_ids.items()}
    events, inserts, updates = [], [], []
    created = updated = 0

    def write(done: bool = False) -> None:
        """Send the rows built so far by chunks: never a million dicts in memory at once."""
        nonlocal created, updated
        least = 1 if done else CHUNK
        while len(inserts) >= least:
            session.execute(insert(Invoice), inserts[:CHUNK])
            created += len(inserts[:CHUNK])
            del inserts[:CHUNK]
        while len(updates) >= least:
            session.execute(update(Invoice), updates[:CHUNK])
            updated += len(updates[:CHUNK])
            del updates[:CHUNK]

    for start in range(0, len(good), CHUNK):
        part = good.iloc[start:start + CHUNK]
        write(done=True)  # an invoice listed twice finds its first row in the ledger
        numbers = list(dict.fromkeys(part["invoice_number"]))
        current = {row.number: row for row in session.execute(
            select(*columns).where(Invoice.number.in_(numbers)))}
        _compare(part, current, debtor_ids, accounts, set_off, export_date, report,
                 events, inserts, updates, write)

    for start in range(0, len(absent), CHUNK):
        gone = session.execute(select(*columns).where(
            Invoice.id.in_(absent[start:start + CHUNK]))).all()
        in_litigation = _dossiers_in_litigation(session, gone)
        for old in gone:
            write()
            if not settled_by_absence(old.status, False, old.last_seen_on, export_date):
                continue
            number = old.number
            updates.append({"id": old.id, "status": "settled", "settled_on": export_date,
                            "settled_how": "absent", "open_amount": 0})
            absence.settled.append({"number": number, "account": accounts.get(old.debtor_id),
                                    "currency": old.currency, "open_amount": old.open_amount,
                                    "dossier": old.dossier_id if old.dossier_id in in_litigation
                                    else None})
            report.invoices_settled.append(number)
            events.append(Event(EventKind.INVOICE_SETTLED, accounts.get(old.debtor_id), number,
                                {"why": "absent from the export", "export_date": export_date,
                                 "open_amount_before": old.open_amount}))

    write(done=True)
    report.invoices_created += created
    report.invoices_updated += updated
    record(session, events, actor)
    return absence


def _compare(part: pd.DataFrame, current: dict, debtor_ids: dict, accounts: dict,
             set_off: dict, export_date: date, report: IngestReport, events: list,
             inserts: list, updates: list, write) -> None:
    """Each row of a chunk of the snapshot against its invoice in the ledger, if it has one."""
    for row in part.itertuples(index=False):
        write()
        status = status_of(row.open_amount)
        taken = getattr(row, "set_off", None) or None  # None: no credit set against it
        old = current.get(row.invoice_number)
        if old is None:
            inserts.append({
                "number": row.invoice_number, "debtor_id": debtor_ids[row.account],
                "issue_date": row.issue_date, "due_date": row.due_date, "amount": row.amount,
                "open_amount": row.open_amount, "currency": row.currency, "status": status,
                "document_type": row.document_type, "last_seen_on": export_date,
                "settled_on": export_date if status == "settled" else None,
                "set_off": taken,
                "settled_how": "export" if status == "settled" else None,
            })
            if row.invoice_number in set_off:
                events.append(Event(EventKind.CREDIT_SET_OFF, row.account, row.invoice_number,
                                    {"set_off": set_off[row.invoice_number],
                                     "open_amount": row.open_amount, "export_date": export_date}))
            continue
        if is_older_snapshot(old.last_seen_on, export_date):
            continue
        change = {"id": old.id, "last_seen_on": export_date}
        if debtor_ids[row.account] != old.debtor_id:
            change["debtor_id"] = debtor_ids[row.account]
            events.append(Event(EventKind.DEBTOR_CHANGED, row.account, row.invoice_number,
                                {"from": accounts.get(old.debtor_id), "to": row.account,
                                 "export_date": export_date}))
        if row.currency != old.currency:  # recorded as exported, never converted
            change["currency"] = row.currency
            events.append(Event(EventKind.CURRENCY_CHANGED, row.account, row.invoice_number,
                                {"from": old.currency, "to": row.currency,
                                 "export_date": export_date}))
        if row.document_type != old.document_type:
            change["document_type"] = row.document_type
        if row.amount != old.amount:
            change["amount"] = row.amount
            events.append(Event(EventKind.AMOUNT_CHANGED, row.account, row.invoice_number,
                                {"from": old.amount, "to": row.amount, "export_date": export_date}))
        if row.due_date != old.due_date:
            change["due_date"] = row.due_date
        if taken != old.set_off:
            change["set_off"] = taken
        if row.open_amount != old.open_amount:
            change["open_amount"] = row.open_amount
            if restarts_limitation(old.open_amount, row.open_amount,
                                   set_off=row.invoice_number in set_off):
                change["last_payment_on"] = export_date
            details = {"from": old.open_amount, "to": row.open_amount, "export_date": export_date}
            if row.invoice_number in set_off:
                details["set_off"] = set_off[row.invoice_number]
            events.append(Event(EventKind.OPEN_AMOUNT_CHANGED, row.account, row.invoice_number,
                                details))
        if status != old.status:
            change["status"] = status
            change["settled_on"] = export_date if status == "settled" else None
            change["settled_how"] = "export" if status == "settled" else None
            if status == "settled":
                report.invoices_settled.append(row.invoice_number)
                events.append(Event(EventKind.INVOICE_SETTLED, row.account, row.invoice_number,
                                    {"why": "open amount 0 in the export", "export_date": export_date}))
            elif status == "open":
                report.invoices_reopened.append(row.invoice_number)
                events.append(Event(EventKind.INVOICE_REOPENED, row.account, row.invoice_number,
                                    {"open_amount": row.open_amount, "export_date": export_date}))
            else:
                events.append(Event(EventKind.CREDIT_OPEN, row.account, row.invoice_number,
                                    {"open_amount": row.open_amount, "export_date": export_date}))
        updates.append(change)


def _dossiers_in_litigation(session: Session, invoices) -> set[str]:
    """The dossiers, among these invoices', that are in litigation (not closed)."""
    ids = sorted({i.dossier_id for i in invoices if i.dossier_id})
    found: set[str] = set()
    for start in range(0, len(ids), 1000):
        found.update(session.scalars(select(LitigationDossier.id).where(
            LitigationDossier.id.in_(ids[start:start + 1000]),
            LitigationDossier.status != CLOSED)))
    return found
