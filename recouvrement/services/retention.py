"""GDPR retention: archive closed debtors' personal data, then erase it for good.

CNIL référentiel "gestion des impayés" (délibération 2021-130): the data of a
debtor whose debts are all closed stays in the active ledger for 3 years
after the last contact; it is then kept apart, in an intermediate archive,
until the limitation period ends (5 years B2B, 2 years against a consumer,
counted here from the last contact), and then erased.

Erasing keeps the ledger's figures and the audit chain: the debtor's account
becomes a pseudonym, reminders lose their recipient and text, and the
debtor's audit entries lose account, subject, details and salt while their
hashes stay (`audit.redact`), so `audit verify` still passes afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import PURGE_EVENT, PURGED_NAME, Event, id_ranges, record, redact
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import (
    AuditEntry,
    CallTask,
    Debtor,
    DebtorArchive,
    Invoice,
    LitigationDossier,
    QuarantinedRow,
    Reminder,
    ReminderDelivery,
)
from recouvrement.queries.deliveries import sent_letter_files
from recouvrement.domain.legal import limitation_date
from recouvrement.domain.model import DebtorKind

ACTIVE_YEARS = 3  # CNIL référentiel 2021-130: 3 years after the last contact
PERSONAL = ("name", "email", "phone", "siren", "address", "postcode", "city", "country",
            "risk_factors")
ARCHIVED_NAME = "(archived)"


@dataclass
class RetentionReport:
    archived: list[dict[str, Any]] = field(default_factory=list)
    purged: list[dict[str, Any]] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    entries_erased: int = 0
    entries_kept: int = 0  # written before erasure was possible (no payload digest)
    # Registered letters' PDFs of erased debtors: deleted once the purge is committed.
    files: list[str] = field(default_factory=list)
    # What the files outside the database still hold of them (see retention_files.py):
    # reminder keys old -> new (the print queue's manifests), dossiers exported, and
    # the personal values to blank in validation reports.
    rekeyed: dict[str, str] = field(default_factory=dict)
    pseudonyms: dict[str, str] = field(default_factory=dict)  # account -> pseudonym
    exported: list[str] = field(default_factory=list)
    values: set[str] = field(default_factory=set)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 2, 28)


def last_contacts(session: Session) -> dict[int, date]:
    """Per debtor, the last day anything happened between creditor and debtor."""
    last: dict[int, date] = {}

    def take(rows) -> None:
        for debtor_id, day in rows:
            if day is not None:
                day = day.date() if isinstance(day, datetime) else day
                last[debtor_id] = max(last.get(debtor_id, day), day)

    take(session.execute(select(Reminder.debtor_id, func.max(Reminder.sent_on))
                         .where(Reminder.status == "sent").group_by(Reminder.debtor_id)))
    take(session.execute(select(Invoice.debtor_id, func.max(Invoice.last_seen_on))
                         .group_by(Invoice.debtor_id)))
    take(session.execute(select(Invoice.debtor_id, func.max(Invoice.settled_on))
                         .group_by(Invoice.debtor_id)))
    take(session.execute(select(LitigationDossier.debtor_id, func.max(LitigationDossier.closed_on))
                         .group_by(LitigationDossier.debtor_id)))
    take(session.execute(select(CallTask.debtor_id, func.max(CallTask.worked_on))  # a call
                         .where(CallTask.status == "done").group_by(CallTask.debtor_id)))
    return last


def _still_active(session: Session) -> set[int]:
    """Debtors with an open invoice or a dossier not closed: never archived."""
    active = set(session.scalars(select(Invoice.debtor_id).where(Invoice.status == "open")))
    active |= set(session.scalars(select(LitigationDossier.debtor_id)
                                  .where(LitigationDossier.status != "closed")))
    return active


def delete_files(report: RetentionReport) -> int:
    """After the commit: the letters' PDFs of the debtors erased."""
    gone = 0
    for name in report.files:
        path = Path(name)
        if path.is_file():
            path.unlink()
            gone += 1
    return gone


def pseudonymous(key, old: str, purpose: str) -> str:
    """A keyed hash of what was an unsalted one: a guessed account no longer matches it."""
    return key.mac(f"erased-{purpose}", old)


def _rekey(session: Session, debtor: Debtor, report: RetentionReport) -> None:
    """Reminder keys and Message-IDs were hashes of account and invoice numbers (kept in
    the ledger): after erasure they become keyed hashes of themselves, still unique."""
    from recouvrement.adapters.audit import signing_key
    from recouvrement.adapters.db.checkpoints import keyring_for

    key = signing_key(session, keyring_for(session))
    for reminder_id, old_key, message_id in session.execute(
            select(Reminder.id, Reminder.key, Reminder.message_id)
            .where(Reminder.debtor_id == debtor.id)).all():
        local, _, domain = message_id.strip("<>").partition("@")
        new_key = pseudonymous(key, old_key, "key")
        new_id = f"<{pseudonymous(key, message_id, 'message-id')[:32]}@{domain or 'erased.invalid'}>"
        session.execute(update(Reminder).where(Reminder.id == reminder_id)
                        .values(key=new_key, message_id=new_id)
                        .execution_options(synchronize_session=False))
        report.rekeyed[old_key] = new_key


def _copies(session: Session, debtor: Debtor, archive: DebtorArchive,
            report: RetentionReport) -> None:
    """Where else the product wrote this debtor's data, noted before it is erased."""
    from recouvrement.adapters.db.models import AuditEntry as Entry

    for details in session.scalars(select(Entry.details).where(
            Entry.account == debtor.account, Entry.event == "litigation.exported")):
        if isinstance(details, dict) and details.get("out"):
            report.exported.append(str(details["out"]))
    report.values |= _personal_values({**(archive.data or {}), "account": debtor.account})


def _personal_values(row: Any) -> set[str]:
    """Values that name a debtor, long enough not to match unrelated text."""
    if not isinstance(row, dict):
        return set()
    found = (row.get(k) for k in ("account", "name", "email", "phone", "siren", "address"))
    return {str(v).strip() for v in found if v is not None and len(str(v).strip()) >= 4}


def purge(session: Session, *, today: date, actor: str,
          active_years: int = ACTIVE_YEARS) -> RetentionReport:
    """Archive the debtors closed for `active_years` since their last contact; erase the
    archives whose limitation period is over. One transaction, recorded in the audit log."""
    report = RetentionReport()
    record(session, _reactivate(session, report), actor)
    record(session, _archive(session, today, active_years, report), actor)
    _erase(session, today, actor, report)
    return report


def _reactivate(session: Session, report: RetentionReport) -> list[Event]:
    """A debtor archived but active again (new invoices, a new export of it) leaves the archive."""
    active = _still_active(session)
    events = []
    for archive, debtor in session.execute(
            select(DebtorArchive, Debtor).join(Debtor, Debtor.id == DebtorArchive.debtor_id)).all():
        if debtor.id not in active and debtor.name == ARCHIVED_NAME:
            continue
        if debtor.name == ARCHIVED_NAME:  # nothing newer came with the export: put it back
            for name in PERSONAL:
                setattr(debtor, name, archive.data.get(name))
        session.delete(archive)
        report.reactivated.append(debtor.account)
        events.append(Event(EventKind.REACTIVATED, debtor.account))
    session.flush()
    return events


def _archive(session: Session, today: date, active_years: int,
             report: RetentionReport) -> list[Event]:
    archived = set(session.scalars(select(DebtorArchive.debtor_id)))
    active = _still_active(session)
    contacts = last_contacts(session)
    events = []
    for debtor in session.scalars(select(Debtor).order_by(Debtor.account)):
        last = contacts.get(debtor.id) or (debtor.updated_at.date() if debtor.updated_at else None)
        if (debtor.id in archived or debtor.id in active or last is None
                or _add_years(last, active_years) >= today or debtor.name == PURGED_NAME):
            continue
        until = max(limitation_date(DebtorKind(debtor.kind), last), today)
        session.add(DebtorArchive(
            debtor_id=debtor.id, data={f: getattr(debtor, f) for f in PERSONAL},
            last_contact_on=last, archived_on=today, archived_at=datetime.now(timezone.utc),
            purge_after=until))
        for name in PERSONAL:
            setattr(debtor, name, None)
        debtor.name = ARCHIVED_NAME
        report.archived.append({"account": debtor.account, "last_contact": last.isoformat(),
                                "purge_after": until.isoformat()})
        events.append(Event(EventKind.ARCHIVED, debtor.account,
                            details={"last_contact": last, "erase_after": until}))
    session.flush()
    return events


def _erase(session: Session, today: date, actor: str, report: RetentionReport) -> None:
    rows = session.execute(select(DebtorArchive, Debtor)
                           .join(Debtor, Debtor.id == DebtorArchive.debtor_id)
                           .where(DebtorArchive.purge_after < today)
                           .order_by(Debtor.account)).all()
    quarantined = _quarantined_by_account(session, {debtor.account for _, debtor in rows})
    for archive, debtor in rows:
        account, pseudonym = debtor.account, f"ERASED-{secrets.token_hex(6).upper()}"
        ids = list(session.scalars(select(AuditEntry.id).where(AuditEntry.account == account,
                                                               AuditEntry.redacted_at.is_(None))))
        _copies(session, debtor, archive, report)
        erased = redact(session, ids, pseudonym=pseudonym,
                        reason="GDPR retention purge (CNIL 2021-130)")
        _rekey(session, debtor, report)
        report.pseudonyms[account] = pseudonym
        report.entries_erased += len(erased)
        report.entries_kept += len(ids) - len(erased)
        report.files += sent_letter_files(session, debtor.id)
        letters = session.execute(
            update(Reminder).where(Reminder.debtor_id == debtor.id)
            .values(recipient=None, subject="", body_text="", body_html="", mime=None,
                    letter_html=None, letter_file=None)
            .execution_options(synchronize_session=False)).rowcount
        # The deliveries' proofs (a letter's file names the debtor) and payloads (an SMS).
        session.execute(update(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(
            select(Reminder.id).where(Reminder.debtor_id == debtor.id)))
            .values(payload=None, proof=None).execution_options(synchronize_session=False))
        # What a collector wrote down about a call may name people: it goes too.
        session.execute(update(CallTask).where(CallTask.debtor_id == debtor.id).values(note=None)
                        .execution_options(synchronize_session=False))
        rejected = quarantined.get(account, [])
        for raw in session.scalars(select(QuarantinedRow.raw).where(
                QuarantinedRow.id.in_(rejected))) if rejected else []:
            report.values |= _personal_values(raw)  # what validation reports showed of them
        if rejected:  # rejected export rows keep their reasons, not their content
            session.execute(update(QuarantinedRow).where(QuarantinedRow.id.in_(rejected))
                            .values(raw={"erased": True})
                            .execution_options(synchronize_session=False))
        debtor.account, debtor.name = pseudonym, PURGED_NAME
        archived_on = archive.archived_on
        session.delete(archive)
        session.flush()
        report.purged.append({"pseudonym": pseudonym, "entries_erased": len(erased)})
        # The purge names the entries it erased, so `audit verify` can tell them from edits.
        record(session, [Event(PURGE_EVENT, subject=pseudonym, details={
            "redacted": id_ranges(erased), "reminders_erased": letters,
            "quarantined_rows_erased": len(rejected), "archived_on": archived_on})], actor)


def _quarantined_by_account(session: Session, accounts: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    if not accounts:
        return found
    for row_id, raw in session.execute(select(QuarantinedRow.id, QuarantinedRow.raw)):
        if isinstance(raw, dict) and raw.get("account") in accounts:
            found.setdefault(raw["account"], []).append(row_id)
    return found
