"""Legal rate tables, loaded from the packaged ``rules/rates.yaml``.

The figures change every half-year; they live in the YAML file with their
sources, never in code. This module only reads them, checks them on load and
answers "which rate applies on this date", saying when it had to fall back on
the last recorded figure (``provisional``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import yaml

from recouvrement.domain.model import DebtorKind

HalfYear = tuple[int, int]  # (year, 1 | 2)

_HALF_YEAR_KEY = re.compile(r"^(\d{4})-H([12])$")
COUNTED_FROM = ("start", "next_january_first")


def half_year_of(d: date) -> HalfYear:
    return (d.year, 1 if d.month <= 6 else 2)


def half_year_start(d: date) -> date:
    """1 January or 1 July: the date whose ECB rate sets the half-year's rate."""
    return date(d.year, 1 if d.month <= 6 else 7, 1)


def next_half_year_start(d: date) -> date:
    return date(d.year, 7, 1) if d.month <= 6 else date(d.year + 1, 1, 1)


def half_year_label(d: date) -> str:
    year, half = half_year_of(d)
    return f"{year}-H{half}"


@dataclass(frozen=True)
class LimitationRule:
    years: int
    counted_from: str  # one of COUNTED_FROM
    source: str


@dataclass(frozen=True)
class RateTables:
    checked_on: date
    # (effective date, rate) sorted by date, strictly increasing
    ecb_changes: tuple[tuple[date, Decimal], ...]
    ecb_complete_through: date
    late_interest_margins: Mapping[DebtorKind, Decimal]
    contractual_rate_floor_multiple: Decimal
    # "tous les autres cas" rate per half-year, contiguous
    legal_rates: Mapping[HalfYear, Decimal]
    fixed_recovery_fee: Decimal
    limitation_rules: Mapping[DebtorKind, LimitationRule]
    urgent_within_days: int
    small_claims_ceiling: Decimal

    def ecb_rate_for_half_year(self, d: date) -> Decimal:
        """ECB MRO rate in force on 1 January / 1 July of d's half-year (L441-10)."""
        reference = half_year_start(d)
        rate: Decimal | None = None
        for effective, value in self.ecb_changes:
            if effective > reference:
                break
            rate = value
        if rate is None:
            raise ValueError(
                f"no ECB rate recorded on {reference.isoformat()}; "
                f"the table starts on {self.ecb_changes[0][0].isoformat()}"
            )
        return rate

    def ecb_rate_is_provisional(self, d: date) -> bool:
        """True when the ECB may have changed its rate after the table was completed."""
        return half_year_start(d) > self.ecb_complete_through

    def legal_rate(self, d: date) -> tuple[Decimal, bool]:
        """Taux légal "tous les autres cas" for d's half-year, and whether provisional.

        After the last recorded half-year the last rate is used and flagged:
        the arrêté for that half-year has not been entered yet.
        """
        key = half_year_of(d)
        if key in self.legal_rates:
            return self.legal_rates[key], False
        first, last = min(self.legal_rates), max(self.legal_rates)
        if key < first:
            raise ValueError(
                f"no taux légal recorded for {half_year_label(d)}; "
                f"the table starts at {first[0]}-H{first[1]}"
            )
        return self.legal_rates[last], True

    def late_interest_rate(self, kind: DebtorKind, d: date) -> tuple[Decimal, bool]:
        """Default annual late-interest rate (percent) on date d, and whether provisional.

        B2B: ECB + 10 points (Code de commerce L441-10); PUBLIC: ECB + 8 points
        (Code de la commande publique R2192-31); B2C: taux légal (Code civil
        1231-6).
        """
        if kind is DebtorKind.B2C:
            return self.legal_rate(d)
        margin = self.late_interest_margins[kind]
        return self.ecb_rate_for_half_year(d) + margin, self.ecb_rate_is_provisional(d)


@functools.cache
def load_rates() -> RateTables:
    """The packaged tables, read once per process."""
    text = files("recouvrement.domain").joinpath("rules").joinpath("rates.yaml").read_text(
        encoding="utf-8"
    )
    return parse_rates(yaml.safe_load(text))


def parse_rates(data: Mapping[str, Any]) -> RateTables:
    """Build and check RateTables from the YAML structure; ValueError names the bad entry."""
    try:
        ecb = data["ecb_main_refinancing_rate"]
        changes = tuple(
            (_date(c["effective"], "ecb effective"), _rate(c["rate"], "ecb rate"))
            for c in ecb["changes"]
        )
        legal = {
            _half_year_key(k): _rate(v, f"legal rate {k}")
            for k, v in data["legal_interest_rate"]["other_cases"].items()
        }
        margins = {
            DebtorKind(k): _rate(v["points"], f"margin {k}")
            for k, v in data["late_interest_margin"].items()
        }
        limitation = data["limitation"]
        rules = {
            DebtorKind(k): LimitationRule(int(v["years"]), str(v["counted_from"]), str(v["source"]))
            for k, v in limitation["by_kind"].items()
        }
        tables = RateTables(
            checked_on=_date(data["checked_on"], "checked_on"),
            ecb_changes=changes,
            ecb_complete_through=_date(ecb["complete_through"], "ecb complete_through"),
            late_interest_margins=MappingProxyType(margins),
            contractual_rate_floor_multiple=_rate(
                data["contractual_rate_floor_multiple"], "contractual_rate_floor_multiple"
            ),
            legal_rates=MappingProxyType(dict(sorted(legal.items()))),
            fixed_recovery_fee=_rate(data["fixed_recovery_fee"]["amount"], "fixed fee"),
            limitation_rules=MappingProxyType(rules),
            urgent_within_days=int(limitation["urgent_within_days"]),
            small_claims_ceiling=_rate(
                data["procedures"]["small_claims_ceiling"], "small_claims_ceiling"
            ),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"rates.yaml is missing or misshapes an entry: {exc!r}") from exc
    _check(tables)
    return tables


def _check(t: RateTables) -> None:
    if not t.ecb_changes:
        raise ValueError("rates.yaml: no ECB rate change recorded")
    dates = [d for d, _ in t.ecb_changes]
    if any(a >= b for a, b in zip(dates, dates[1:])):
        raise ValueError("rates.yaml: ECB changes must be in strictly increasing date order")
    if not t.legal_rates:
        raise ValueError("rates.yaml: no taux légal recorded")
    # A gap in the half-years would make legal_rate() fall through silently.
    keys = list(t.legal_rates)
    for (y1, h1), (y2, h2) in zip(keys, keys[1:]):
        if (y2, h2) != ((y1, 2) if h1 == 1 else (y1 + 1, 1)):
            raise ValueError(f"rates.yaml: taux légal missing between {y1}-H{h1} and {y2}-H{h2}")
    for kind in (DebtorKind.B2B, DebtorKind.PUBLIC):
        if kind not in t.late_interest_margins:
            raise ValueError(f"rates.yaml: no late-interest margin for {kind.value}")
    for kind in DebtorKind:
        rule = t.limitation_rules.get(kind)
        if rule is None:
            raise ValueError(f"rates.yaml: no limitation rule for {kind.value}")
        if rule.counted_from not in COUNTED_FROM or rule.years <= 0:
            raise ValueError(f"rates.yaml: bad limitation rule for {kind.value}: {rule}")
    if t.urgent_within_days < 0:
        raise ValueError("rates.yaml: urgent_within_days must not be negative")


def _half_year_key(key: object) -> HalfYear:
    match = _HALF_YEAR_KEY.match(str(key))
    if not match:
        raise ValueError(f"rates.yaml: half-year key {key!r} is not like '2025-H1'")
    return int(match.group(1)), int(match.group(2))


def _rate(value: object, where: str) -> Decimal:
    # Floats would carry binary noise into money: the YAML quotes its figures.
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError(f"rates.yaml: {where} must be a quoted string, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"rates.yaml: {where} is not a number: {value!r}") from exc
    if not result.is_finite() or result < 0:
        raise ValueError(f"rates.yaml: {where} must be a non-negative number: {value!r}")
    return result


def _date(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"rates.yaml: {where} is not a date: {value!r}") from exc
