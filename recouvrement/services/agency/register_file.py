"""A file of creditors to register (TOML or YAML): read whole and checked before anything
is saved, so that a mistake names its file, creditor and field and changes nothing."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from recouvrement.services.agency.creditors import (
    CreditorInvalid,
    CreditorRecord,
    Mandate,
    creditor_problems,
)

FIELDS = ("code", "name", "legal_form", "siren", "address", "phone", "iban", "bic", "sender",
          "report_recipients", "report_every", "policy", "templates", "inbox", "database_url",
          "active", "trader", "mandate")
MANDATE_FIELDS = ("reference", "signed_on", "scope", "fee_percent", "fee_minimum",
                  "remit_within_days")
REQUIRED = ("code", "name", "address", "sender", "mandate")
MANDATE_REQUIRED = ("reference", "signed_on", "scope", "fee_percent")


class CreditorFileError(ValueError):
    """`FILE: creditor CODE: field: problem`, or `FILE: problem`."""


def read_register(path: Path) -> list[CreditorRecord]:
    """The creditors of a TOML (`[[creditors]]`) or YAML (`creditors:`) file, all checked."""
    entries = _entries(path, _load(path))
    records, seen = [], set()
    for position, entry in enumerate(entries, start=1):
        where = f"{path}: creditor {entry.get('code') or f'#{position}'!r}"
        try:
            record = _record(entry, base=path.parent)
        except CreditorInvalid as exc:
            raise CreditorFileError(f"{where}: {exc}") from None
        problems = creditor_problems(record)
        if problems:
            field, problem = problems[0]
            raise CreditorFileError(f"{where}: {field}: {problem}")
        if record.code in seen:
            raise CreditorFileError(f"{where}: code: given twice in this file")
        seen.add(record.code)
        records.append(record)
    return records


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CreditorFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CreditorFileError(f"{path}: cannot be read ({exc})") from None
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CreditorFileError(f"{path}: not valid TOML ({exc})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CreditorFileError(f"{path}: not valid YAML ({' '.join(str(exc).split())})"
                                    ) from None
    raise CreditorFileError(f"{path}: a register of creditors is a .toml, .yaml or .yml file")


def _entries(path: Path, data: Any) -> list[dict]:
    if isinstance(data, dict) and "creditors" in data:
        extra = sorted(set(data) - {"creditors"})
        if extra:
            raise CreditorFileError(f"{path}: unknown key {extra[0]!r} beside 'creditors'")
        data = data["creditors"]
    elif isinstance(data, dict) and "code" in data:
        data = [data]  # one creditor, its fields at the top
    if isinstance(data, dict):
        # YAML may key them by code: {acme: {...}}
        data = [{"code": code, **(entry or {})} if isinstance(entry, dict) else entry
                for code, entry in data.items()]
    if not isinstance(data, list) or not data:
        raise CreditorFileError(f"{path}: no creditor in it (a list 'creditors' of tables, "
                                "each with code, name, address, sender and a mandate)")
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise CreditorFileError(f"{path}: creditor #{position}: not a table of fields")
    return data


def _record(entry: dict, *, base: Path) -> CreditorRecord:
    _known(entry, FIELDS, "")
    for key in REQUIRED:
        if entry.get(key) in (None, ""):
            raise CreditorInvalid(f"{key}: missing")
    mandate = entry["mandate"]
    if not isinstance(mandate, dict):
        raise CreditorInvalid("mandate: a table (reference, signed_on, scope, fee_percent, ...)")
    _known(mandate, MANDATE_FIELDS, "mandate.")
    for key in MANDATE_REQUIRED:
        if mandate.get(key) in (None, ""):
            raise CreditorInvalid(f"mandate.{key}: missing (CPCE R124-3: the written mandate)")
    recipients = entry.get("report_recipients") or ()
    if isinstance(recipients, str):
        recipients = recipients.split(",")
    return CreditorRecord(
        code=_text(entry, "code"), name=_text(entry, "name"),
        legal_form=_optional(entry, "legal_form"), siren=_optional(entry, "siren"),
        address=_text(entry, "address").strip(), phone=_optional(entry, "phone"),
        iban=_optional(entry, "iban"), bic=_optional(entry, "bic"),
        sender=_text(entry, "sender"),
        report_recipients=tuple(str(a).strip() for a in recipients if str(a).strip()),
        report_every=_optional(entry, "report_every"),
        policy=_file(entry, "policy", base), templates=_file(entry, "templates", base),
        inbox=_file(entry, "inbox", base), database_url=_optional(entry, "database_url"),
        active=_bool(entry.get("active", True), "active"),
        trader=_bool(entry.get("trader", True), "trader"),
        mandate=Mandate(
            reference=_text(mandate, "reference"),
            signed_on=_date(mandate["signed_on"], "mandate.signed_on"),
            scope=_text(mandate, "scope").strip(),
            fee_percent=_decimal(mandate["fee_percent"], "mandate.fee_percent"),
            fee_minimum=(None if mandate.get("fee_minimum") in (None, "")
                         else _decimal(mandate["fee_minimum"], "mandate.fee_minimum")),
            remit_within_days=_int(mandate.get("remit_within_days", 30),
                                   "mandate.remit_within_days")))


def _known(table: dict, fields: tuple[str, ...], prefix: str) -> None:
    import difflib

    for key in table:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f" (did you mean {prefix}{close[0]!r}?)" if close else ""
            raise CreditorInvalid(f"{prefix}{key}: unknown field{hint}")


def _text(table: dict, key: str) -> str:
    value = table[key]
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise CreditorInvalid(f"{key}: {value!r} is not text")
    return str(value)


def _optional(table: dict, key: str) -> str | None:
    value = table.get(key)
    if value in (None, ""):
        return None
    return _text(table, key).strip()


def _file(table: dict, key: str, base: Path) -> Path | None:
    value = _optional(table, key)
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CreditorInvalid(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise CreditorInvalid(f"{field}: {value!r} is not a number")
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise CreditorInvalid(f"{field}: {value!r} is not a number") from None
    if not number.is_finite():
        raise CreditorInvalid(f"{field}: {value!r} is not a number")
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise CreditorInvalid(f"{field}: {value!r} is not a whole number")
    try:
        return int(value)
    except ValueError:
        raise CreditorInvalid(f"{field}: {value!r} is not a whole number") from None


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise CreditorInvalid(f"{field}: {value!r} is not true or false")
