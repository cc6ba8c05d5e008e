"""The register of creditors (mandants) an agency collects for, kept in the agency's database.

Each creditor has its identity (printed on its letters, CPCE R124-4 2°), its written
mandate (R124-3: date, reference, the claims it covers, the agency's fee) and its own
ledger: for SQLite `$RECOUVREMENT_HOME/creditors/<code>/recouvrement.db`, for
PostgreSQL the agency's database in a schema `creditor_<code>` (the connection's
search_path names only that schema, so no query reaches another creditor's tables).
`creditor_settings` turns a record into the settings of that creditor's ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import CreditorRow
from recouvrement.domain.identity import iban_problem, sender_problem, siren_problem
from recouvrement.config.settings import Settings

CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
REPORT_EVERY = ("weekly", "monthly")


class UnknownCreditor(ValueError):
    """A creditor code the register does not hold."""


class CreditorInvalid(ValueError):
    """A creditor record that cannot be registered: `creditor CODE: field: problem`."""


@dataclass(frozen=True)
class Mandate:
    """The creditor's written mandate to the agency (CPCE R124-3)."""

    reference: str
    signed_on: date
    scope: str  # the claims it covers, in the mandate's words
    fee_percent: Decimal  # the agency's fee, as a share of the sums collected
    fee_minimum: Decimal | None  # per remittance
    remit_within_days: int = 30  # R124-6: the sums collected are paid over within a month


@dataclass(frozen=True)
class CreditorRecord:
    code: str
    name: str
    legal_form: str | None
    siren: str | None
    address: str | None  # lines separated by line breaks
    phone: str | None
    iban: str | None
    bic: str | None
    sender: str  # the From address of this creditor's reminders
    report_recipients: tuple[str, ...]
    report_every: str | None  # weekly | monthly | None
    policy: Path | None
    templates: Path | None
    inbox: Path | None
    database_url: str | None  # None: the creditor's own ledger beside the agency's
    mandate: Mandate
    active: bool = True
    # A trader (commerçant) sues a trader before the commercial court; a creditor that is
    # not one (a liberal profession, an association...) chooses the court differently.
    trader: bool = True


# --- checking a record ----------------------------------------------------------------------


def creditor_problems(record: CreditorRecord) -> list[tuple[str, str]]:
    """(field, problem) for each thing wrong with the record; empty when it can be saved."""
    problems: list[tuple[str, str]] = []
    if not CODE.fullmatch(record.code or ""):
        problems.append(("code", f"{record.code!r} is not a code: 1 to 40 lower-case letters, "
                                 "digits or dashes, not starting or ending with a dash"))
    if not (record.name or "").strip():
        problems.append(("name", "missing: the creditor's name is printed on every letter "
                                 "(CPCE R124-4, 2°)"))
    if not (record.address or "").strip():
        problems.append(("address", "missing: an agency's letter gives the creditor's address "
                                    "(CPCE R124-4, 2°)"))
    for field, value in _columns(record).items():
        limit = _LENGTHS.get(field)
        if limit and isinstance(value, str) and len(value) > limit:
            name = field.replace("mandate_", "mandate.", 1)
            problems.append((name, f"{len(value)} characters, at most {limit}"))
    if record.siren and (problem := siren_problem(record.siren)):
        problems.append(("siren", problem))
    if record.iban and (problem := iban_problem(record.iban)):
        problems.append(("iban", problem))
    if problem := sender_problem(record.sender):
        problems.append(("sender", problem))
    for address in record.report_recipients:
        if "@" not in address:
            problems.append(("report_recipients", f"{address!r} is not an e-mail address"))
    if record.report_every not in (None, *REPORT_EVERY):
        problems.append(("report_every", f"{record.report_every!r} is not one of "
                                         + ", ".join(REPORT_EVERY)))
    mandate = record.mandate
    if not (mandate.reference or "").strip():
        problems.append(("mandate.reference", "missing: the mandate's reference (CPCE R124-3)"))
    if not isinstance(mandate.signed_on, date):
        problems.append(("mandate.signed_on", f"{mandate.signed_on!r} is not a date"))
    if not (mandate.scope or "").strip():
        problems.append(("mandate.scope", "missing: the claims the mandate covers (CPCE R124-3)"))
    if not isinstance(mandate.fee_percent, Decimal) or not (
            Decimal(0) <= mandate.fee_percent <= Decimal(100)):
        problems.append(("mandate.fee_percent",
                         f"{mandate.fee_percent!r} is not a percentage between 0 and 100"))
    if mandate.fee_minimum is not None and (not isinstance(mandate.fee_minimum, Decimal)
                                            or mandate.fee_minimum < 0):
        problems.append(("mandate.fee_minimum", f"{mandate.fee_minimum!r} is not an amount ≥ 0"))
    if not isinstance(mandate.remit_within_days, int) or not 1 <= mandate.remit_within_days <= 31:
        problems.append(("mandate.remit_within_days",
                         f"{mandate.remit_within_days!r} is not a number of days from 1 to 31 "
                         "(CPCE R124-6: the sums are paid over within a month)"))
    return problems


# The register's text columns and their sizes: a longer value is refused before the database.
_LENGTHS = {c.name: c.type.length for c in CreditorRow.__table__.columns
            if getattr(c.type, "length", None)}


def check_creditor(record: CreditorRecord) -> None:
    """Raise CreditorInvalid naming the creditor and the first field that is wrong."""
    problems = creditor_problems(record)
    if problems:
        field, problem = problems[0]
        raise CreditorInvalid(f"creditor {record.code!r}: {field}: {problem}")


# --- the register ---------------------------------------------------------------------------


def list_creditors(session: Session) -> list[CreditorRecord]:
    rows = session.execute(select(CreditorRow).order_by(CreditorRow.code)).scalars()
    return [_record(row) for row in rows]


def get_creditor(session: Session, code: str) -> CreditorRecord:
    row = session.get(CreditorRow, code)
    if row is None:
        known = session.execute(select(CreditorRow.code).order_by(CreditorRow.code)).scalars()
        names = ", ".join(known) or "none registered (recouvrement creditor import FILE)"
        raise UnknownCreditor(f"no creditor {code!r}; the creditors are: {names}")
    return _record(row)


def save_creditor(session: Session, record: CreditorRecord, *, actor: str) -> None:
    """Register the creditor, or update it (upsert by code); the agency's audit log says so."""
    from recouvrement.adapters.audit import Event, record as audit
    from recouvrement.domain.events import EventKind

    check_creditor(record)
    values = _columns(record)
    now = datetime.now(timezone.utc)
    row = session.get(CreditorRow, record.code)
    if row is None:
        session.add(CreditorRow(**values, created_at=now, updated_at=now))
        kind, details = EventKind.CREDITOR_REGISTERED, {
            "name": record.name, "mandate_reference": record.mandate.reference,
            "mandate_signed_on": record.mandate.signed_on,
            "fee_percent": record.mandate.fee_percent}
    else:
        changed = sorted(k for k, v in values.items() if getattr(row, k) != v)
        if not changed:
            return
        for key in changed:
            setattr(row, key, values[key])
        row.updated_at = now
        kind, details = EventKind.CREDITOR_UPDATED, {"changed": changed}
    session.flush()
    audit(session, [Event(kind, subject=f"creditor:{record.code}", details=details)], actor)


def _columns(record: CreditorRecord) -> dict:
    m = record.mandate
    return {
        "code": record.code, "name": (record.name or "").strip(), "legal_form": record.legal_form,
        "siren": record.siren, "address": record.address, "phone": record.phone,
        "iban": record.iban, "bic": record.bic, "sender": record.sender,
        "report_recipients": ",".join(record.report_recipients) or None,
        "report_every": record.report_every,
        "policy": _text(record.policy), "templates": _text(record.templates),
        "inbox": _text(record.inbox), "database_url": record.database_url,
        "mandate_reference": m.reference, "mandate_signed_on": m.signed_on,
        "mandate_scope": m.scope, "fee_percent": m.fee_percent, "fee_minimum": m.fee_minimum,
        "remit_within_days": m.remit_within_days, "active": record.active,
        "trader": record.trader,
    }


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _record(row: CreditorRow) -> CreditorRecord:
    return CreditorRecord(
        code=row.code, name=row.name, legal_form=row.legal_form, siren=row.siren,
        address=row.address, phone=row.phone, iban=row.iban, bic=row.bic, sender=row.sender,
        report_recipients=tuple(a.strip() for a in (row.report_recipients or "").split(",")
                                if a.strip()),
        report_every=row.report_every,
        policy=_path(row.policy), templates=_path(row.templates), inbox=_path(row.inbox),
        database_url=row.database_url,
        mandate=Mandate(reference=row.mandate_reference, signed_on=row.mandate_signed_on,
                        scope=row.mandate_scope, fee_percent=Decimal(row.fee_percent),
                        fee_minimum=row.fee_minimum, remit_within_days=row.remit_within_days),
        active=bool(row.active), trader=bool(row.trader))


def _path(text: str | None) -> Path | None:
    return None if not text else Path(text)


# --- a creditor's settings ------------------------------------------------------------------


def creditor_home(agency: Settings, code: str) -> Path:
    """The creditor's own folder: its SQLite ledger, inbox, letters, dossiers, runs, keys."""
    return agency.home / "creditors" / code


def schema_name(code: str) -> str:
    """The PostgreSQL schema of the creditor's ledger (`-` is not in a plain identifier)."""
    return "creditor_" + code.replace("-", "_")


def creditor_database_url(agency: Settings, code: str) -> str:
    """The creditor's ledger: its own SQLite file, or a schema of the agency's PostgreSQL."""
    from sqlalchemy.engine import make_url

    url = make_url(agency.database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{creditor_home(agency, code) / 'recouvrement.db'}"
    # Every connection of this URL sees only the creditor's schema (libpq `options`).
    options = " ".join(filter(None, [url.query.get("options"),
                                     f"-csearch_path={schema_name(code)}"]))
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def creditor_settings(agency: Settings, record: CreditorRecord) -> Settings:
    """The settings of the creditor's ledger: its home, database, inbox, policy, templates,
    sender and identity; the SMTP relay, the agency's identity and the rest from the agency's."""
    values = {name: getattr(agency, name) for name in Settings.model_fields}
    values.update(
        home=creditor_home(agency, record.code),
        database_url=record.database_url or creditor_database_url(agency, record.code),
        inbox=record.inbox,  # None: the creditor's home/inbox
        policy=record.policy or agency.policy,
        templates=record.templates or agency.templates,
        sender=record.sender,
        creditor_code=record.code,
        creditor_is_trader=record.trader,
        mandate_reference=record.mandate.reference,
        mandate_signed_on=record.mandate.signed_on,
        creditor_name=record.name, creditor_legal_form=record.legal_form,
        creditor_siren=record.siren, creditor_address=record.address,
        creditor_phone=record.phone, creditor_iban=record.iban, creditor_bic=record.bic,
        report_recipients=",".join(record.report_recipients) or None,
        # The audit key and checkpoints of the creditor's own ledger, in its home.
        audit_key_file=None, audit_checkpoint_file=None,
    )
    return Settings(**values)
