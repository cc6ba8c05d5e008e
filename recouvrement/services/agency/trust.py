"""The trust account (compte séparé, CPCE R124-2): its bank statements, and their
reconciliation with the agency's books.

`import_statement` reads a statement as French banks export it — `;` (or `,`, tab)
separated, UTF-8 or Windows-1252, a few lines about the account before the header,
`DD/MM/YYYY` dates, decimal comma with spaces or dots between thousands, one signed
amount column or a debit and a credit column, a closing "Solde" line — and keeps every
line with its file and row. A row it cannot read refuses the whole file (nothing
imported). The same file twice imports nothing; a line already read from an earlier,
overlapping statement is kept, marked as the duplicate of the first, and counted once.

`reconcile` matches every credit to a payment the agency recorded and every debit to a
remittance marked paid or to the fee taken with it (domain/agency.py `reconcile`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import Database, lock
from recouvrement.adapters.db.agency_models import AgencyPayment, AgencyRemittance, TrustLine
from recouvrement.domain.agency import BankLine, Expected
from recouvrement.domain.agency import reconcile as match
from recouvrement.domain.events import EventKind


class StatementError(ValueError):
    """A statement that cannot be read: the file, the row and why (nothing imported)."""


_COLUMNS = {
    "date": ("date", "date operation", "date de l'operation", "date d'operation", "dateop",
             "date comptable", "date de comptabilisation"),
    "value_date": ("date de valeur", "date valeur", "dateval"),
    "label": ("libelle", "libelle operation", "libelle de l'operation", "label", "libelle court",
              "detail", "detail de l'ecriture", "intitule", "description"),
    "amount": ("montant", "montant operation", "montant de l'operation", "montant (eur)",
               "montant eur", "amount", "montant en euros"),
    "debit": ("debit", "debit euros", "debit (eur)", "debit eur", "montant debit"),
    "credit": ("credit", "credit euros", "credit (eur)", "credit eur", "montant credit"),
    "reference": ("reference", "ref", "ref.", "reference operation", "numero de piece",
                  "reference de l'operation"),
}


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("\u2019", "'").lower().strip().strip('"').split())


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError(f"{name}: neither UTF-8 nor Windows-1252")


def parse_amount(text: str) -> Decimal | None:
    """`1 234,56`, `-1.234,56`, `1234.56`, `+12,00 €` -> Decimal; empty -> None."""
    value = (text or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    value = value.replace("€", "").replace("EUR", "").strip()
    if not value:
        return None
    negative = value.startswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("+-() ").replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    elif value.count(".") > 1:
        value = value.replace(".", "")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", value):
        raise ValueError(f"{text!r} is not an amount")
    amount = Decimal(value)
    return -amount if negative else amount


def parse_day(text: str) -> date:
    value = (text or "").strip()
    for pattern, order in ((r"(\d{2})/(\d{2})/(\d{4})", "dmy"), (r"(\d{2})-(\d{2})-(\d{4})", "dmy"),
                           (r"(\d{2})\.(\d{2})\.(\d{4})", "dmy"), (r"(\d{4})-(\d{2})-(\d{2})", "ymd"),
                           (r"(\d{2})/(\d{2})/(\d{2})", "dmy2")):
        found = re.fullmatch(pattern + r"(?:[ T].*)?", value)
        if found:
            a, b, c = (int(x) for x in found.groups())
            if order == "ymd":
                return date(a, b, c)
            return date(2000 + c if order == "dmy2" else c, b, a)
    raise ValueError(f"{text!r} is not a date (DD/MM/YYYY)")


@dataclass(frozen=True)
class ReadLine:
    row: int
    booked_on: date
    label: str
    amount: Decimal
    reference: str | None


def read_statement(raw: bytes, name: str) -> tuple[list[ReadLine], int]:
    """The lines of a statement, and how many summary lines (balances) were left aside."""
    text = _decode(raw, name)
    lines = text.splitlines()
    header_at, columns, dialect = None, {}, ";"
    for index, line in enumerate(lines[:40]):
        for sep in (";", "\t", ","):
            cells = [_plain(c) for c in next(csv.reader([line], delimiter=sep))]
            found = {}
            for key, names in _COLUMNS.items():  # the first name listed wins
                at = next((cells.index(n) for n in names if n in cells), None)
                if at is not None:
                    found[key] = at
            if "date" in found and "label" in found and (
                    "amount" in found or ("debit" in found and "credit" in found)):
                header_at, columns, dialect = index, found, sep
                break
        if header_at is not None:
            break
    if header_at is None:
        raise StatementError(
            f"{name}: no header row with a date, a label and an amount (or debit and credit) "
            "column in its first 40 lines")
    found_lines, summaries = [], 0
    reader = csv.reader(io.StringIO("\n".join(lines[header_at + 1:])), delimiter=dialect)
    for offset, cells in enumerate(reader, start=header_at + 2):
        if not any(c.strip() for c in cells):
            continue

        def cell(key: str) -> str:
            at = columns.get(key)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        try:
            booked_on = parse_day(cell("date"))
        except ValueError:
            if re.search(r"\b(solde|total|sous-total|balance)\b", _plain(" ".join(cells))):
                summaries += 1
                continue
            raise StatementError(f"{name}, row {offset}: {cell('date')!r} is not a date "
                                 "(DD/MM/YYYY); nothing was imported") from None
        try:
            if "amount" in columns:
                amount = parse_amount(cell("amount"))
            else:
                debit, credit = parse_amount(cell("debit")), parse_amount(cell("credit"))
                if debit is not None and credit is not None and debit and credit:
                    raise ValueError("both a debit and a credit")
                amount = credit if credit else (-abs(debit) if debit else None)
        except (ValueError, InvalidOperation) as exc:
            raise StatementError(f"{name}, row {offset}: {exc}; nothing was imported") from None
        if amount is None:
            raise StatementError(f"{name}, row {offset}: no amount; nothing was imported")
        found_lines.append(ReadLine(offset, booked_on, cell("label"), amount,
                                    cell("reference") or None))
    return found_lines, summaries


def import_statement(agency_db: Database, path: Path, *, actor: str) -> dict[str, Any]:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    lines, summaries = read_statement(raw, path.name)
    with agency_db.session() as session:
        lock(session, "agency-trust")
        if session.scalar(select(TrustLine.id).where(TrustLine.file_sha256 == digest)):
            return {"file": path.name, "imported": 0, "duplicates": 0, "summaries": summaries,
                    "already": True}
        # An earlier statement that overlaps: its lines, by what they say, to count once.
        existing: dict[tuple, list[int]] = {}
        if lines:
            low, high = min(x.booked_on for x in lines), max(x.booked_on for x in lines)
            for row in session.scalars(select(TrustLine).where(
                    TrustLine.booked_on >= low, TrustLine.booked_on <= high,
                    TrustLine.duplicate_of.is_(None)).order_by(TrustLine.id)):
                existing.setdefault(_same(row.booked_on, row.amount, row.label), []).append(row.id)
        seen: Counter = Counter()
        now = datetime.now(timezone.utc)
        duplicates = 0
        for line in lines:
            key = _same(line.booked_on, line.amount, line.label)
            earlier = existing.get(key, [])
            twin = earlier[seen[key]] if seen[key] < len(earlier) else None
            seen[key] += 1
            duplicates += twin is not None
            session.add(TrustLine(file_name=path.name, file_sha256=digest, row_number=line.row,
                                  booked_on=line.booked_on, label=line.label, amount=line.amount,
                                  reference=line.reference, duplicate_of=twin, imported_at=now))
        record(session, [Event(EventKind.AGENCY_TRUST_IMPORTED, None, path.name,
                               {"sha256": digest, "lines": len(lines), "duplicates": duplicates,
                                "summaries": summaries})], actor)
    return {"file": path.name, "imported": len(lines), "duplicates": duplicates,
            "summaries": summaries, "already": False}


def _same(on: date, amount: Decimal, label: str) -> tuple:
    return (on, f"{Decimal(amount):.2f}", _plain(label))


def reconcile(agency_db: Database, as_of: date) -> dict[str, Any]:
    """The statement lines up to `as_of` against the payments received and the remittances
    (and fees) paid up to then, as plain rows."""
    with agency_db.session() as session:
        lines = [BankLine(r.id, r.booked_on, r.amount, r.label, r.reference)
                 for r in session.scalars(select(TrustLine).where(
                     TrustLine.booked_on <= as_of, TrustLine.duplicate_of.is_(None)))]
        where = {r.id: (r.file_name, r.row_number) for r in session.scalars(select(TrustLine))}
        expected = [Expected(f"payment:{p.receipt_number}", p.received_on, p.amount,
                             tuple(x for x in (p.reference, p.receipt_number) if x))
                    for p in session.scalars(select(AgencyPayment).where(
                        AgencyPayment.received_on <= as_of))]
        for r in session.scalars(select(AgencyRemittance).where(
                AgencyRemittance.status == "paid", AgencyRemittance.paid_on <= as_of)):
            refs = tuple(x for x in (r.paid_reference, r.number) if x)
            expected.append(Expected(f"remittance:{r.number}", r.paid_on, -r.net, refs))
            if r.fee > 0:
                expected.append(Expected(f"fee:{r.number}", r.paid_on, -r.fee, (r.number,)))
    result = match(lines, expected)

    def line_row(line: BankLine) -> dict[str, Any]:
        file_name, row = where[line.id]
        return {"file": file_name, "row": row, "date": line.booked_on.isoformat(),
                "amount": f"{line.amount:.2f}", "label": line.label}

    return {
        "as_of": as_of.isoformat(),
        "bank_balance": f"{result.bank_balance:.2f}",
        "book_balance": f"{result.book_balance:.2f}",
        "difference": f"{result.difference:.2f}",
        "balanced": result.balanced,
        "matched": [{**line_row(line), "with": e.key, "how": how}
                    for line, e, how in result.matched],
        "unmatched_lines": [{**line_row(line), "reason": why}
                            for line, why in result.unmatched_lines],
        "unmatched_books": [{"what": e.key, "date": e.on.isoformat(),
                             "amount": f"{e.amount:.2f}", "reason": why}
                            for e, why in result.unmatched_expected],
    }
