"""Dunning policies as data: the ladder's levels, gaps and thresholds, from YAML.

Each level says what it is (`kind`: courtesy, reminder or formal_notice) and
whether its letter goes registered; the last level of every ladder is the
formal notice, and everyone who needs to know asks the policy
(`is_formal_notice`, `formal_notice_level`, `level(n).registered`).

A policy file holds a base ladder, optional segments (by debtor kind, risk
class, band of the learned chance of paying late, open-amount band; the first
that matches wins) and optional per-debtor
overrides. Each of them resolves to a complete `Policy`, checked on load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from recouvrement.domain.model import Debtor

RELATIVE_TO = ("due_date", "end_of_month", "previous_level")
CHANNELS = ("email", "letter", "phone", "sms")  # each an adapter: README, "Adding a channel"
KINDS = ("B2B", "B2C", "PUBLIC")
RISK_CLASSES = ("low", "medium", "high")
COURTESY, REMINDER, FORMAL_NOTICE = "courtesy", "reminder", "formal_notice"
LEVEL_KINDS = (COURTESY, REMINDER, FORMAL_NOTICE)
# What a level is called, by its kind: the first reminder and the later ones differ.
LEVEL_WORDS = {
    "en": {COURTESY: "courtesy notice", "first_reminder": "reminder",
           REMINDER: "second reminder", FORMAL_NOTICE: "formal notice"},
    "fr": {COURTESY: "avis de courtoisie", "first_reminder": "rappel",
           REMINDER: "relance", FORMAL_NOTICE: "mise en demeure"},
}
# The built-in templates and the kind of level each one words; a template of
# another name is the creditor's own and may word any kind.
BUILT_IN_TEMPLATES = {"level0": COURTESY, "level1": REMINDER, "level1_soft": REMINDER,
                      "level2": REMINDER,
                      "level3": FORMAL_NOTICE}
OVERRIDABLE = ("levels", "min_gap_days", "min_open_amount", "litigation_after_days",
               "contractual_rate")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Level:
    level: int
    offset_days: int
    relative_to: str
    channels: tuple[str, ...]
    template: str
    kind: str = REMINDER  # courtesy | reminder | formal_notice
    registered: bool = False  # its letter goes by registered post (LRAR)

    @property
    def is_formal_notice(self) -> bool:
        return self.kind == FORMAL_NOTICE


@dataclass(frozen=True)
class Segment:
    """Debtors this variant applies to; None matches anything."""

    name: str
    policy: "Policy"
    kind: str | None = None
    risk_class: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    # A band of the learned chance (0-1) that the debtor does not pay within 30 days; a
    # debtor scored by the hand-set rules has no such chance and matches no band.
    probability_min: Decimal | None = None
    probability_max: Decimal | None = None

    def matches(self, debtor: Debtor, open_amount: Decimal) -> bool:
        return ((self.kind is None or debtor.kind.value == self.kind)
                and (self.risk_class is None or debtor.risk_class == self.risk_class)
                and self._in_band(debtor.risk_probability)
                and (self.amount_min is None or open_amount >= self.amount_min)
                and (self.amount_max is None or open_amount <= self.amount_max))

    def _in_band(self, probability: float | None) -> bool:
        if self.probability_min is None and self.probability_max is None:
            return True
        if probability is None:
            return False
        p = Decimal(str(probability))
        return ((self.probability_min is None or p >= self.probability_min)
                and (self.probability_max is None or p <= self.probability_max))


@dataclass(frozen=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    min_gap_days: int = 5
    min_open_amount: Decimal = Decimal("0")
    litigation_after_days: int = 8
    # A B2B contractual late-interest rate (annual percent) replacing the legal default.
    contractual_rate: Decimal | None = None
    segments: tuple[Segment, ...] = ()
    debtors: Mapping[str, "Policy"] = field(default_factory=dict)

    def level(self, number: int) -> Level:
        for level in self.levels:
            if level.level == number:
                return level
        raise KeyError(number)

    def contractual_rate_for(self, debtor: Debtor) -> Decimal | None:
        """The contractual rate applies between businesses only (C. com. L441-10)."""
        return self.contractual_rate if debtor.kind.value == "B2B" else None

    @property
    def formal_notice_level(self) -> int:
        """The number of the level that is the formal notice (mise en demeure): the last."""
        return next(level.level for level in self.levels if level.is_formal_notice)

    def is_formal_notice(self, number: int | None) -> bool:
        """Whether a reminder of this level is the formal notice, as this policy words it."""
        return any(level.level == number and level.is_formal_notice for level in self.levels)

    def level_name(self, number: int, language: str = "en") -> str:
        """What this policy's level is called ("formal notice" for a two-level ladder's
        level 2); the number itself for a level the policy does not have."""
        words = LEVEL_WORDS.get(language, LEVEL_WORDS["en"])
        try:
            level = self.level(number)
        except KeyError:
            return str(number)
        if level.kind == REMINDER and not any(
                other.kind == REMINDER and other.level < number for other in self.levels):
            return words["first_reminder"]
        return words[level.kind]

    def for_debtor(self, debtor: Debtor, open_amount: Decimal = Decimal("0")) -> "Policy":
        """The policy this debtor is dunned under: its override, a segment, or the base."""
        if debtor.account in self.debtors:
            return self.debtors[debtor.account]
        for segment in self.segments:
            if segment.matches(debtor, open_amount):
                return segment.policy
        return self


def load_policy(path: Path | None = None, *, legal_rate: Decimal | None = None) -> Policy:
    """The policy in `path`, or the built-in default ladder."""
    if path is None:
        text = resources.files("recouvrement.domain").joinpath("rules/default_policy.yaml").read_text()
        where = "default_policy.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"{path}: cannot be read ({exc.strerror})") from exc
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{where}: not valid YAML ({exc})") from exc
    return parse_policy(data, where, legal_rate=legal_rate)


def parse_policy(data: Any, where: str = "policy", *, legal_rate: Decimal | None = None) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: must be a mapping with a list `levels`")
    base = _variant(data, where, None, legal_rate)
    segments = tuple(_segment(item, base, f"{where}: segments[{i}]", legal_rate)
                     for i, item in enumerate(_list(data.get("segments", []), f"{where}: segments")))
    names = {s.name: s.policy for s in segments}
    debtors = {}
    overrides = data.get("debtors", {}) or {}
    if not isinstance(overrides, dict):
        raise PolicyError(f"{where}: debtors must map accounts to overrides")
    for account, item in overrides.items():
        here = f"{where}: debtors.{account}"
        if not isinstance(item, dict):
            raise PolicyError(f"{here}: must be a mapping")
        start = base
        if "segment" in item:
            if item["segment"] not in names:
                raise PolicyError(f"{here}: unknown segment {item['segment']!r}")
            start = names[item["segment"]]
        rest = {k: v for k, v in item.items() if k != "segment"}
        debtors[str(account)] = _variant(rest, here, start, legal_rate, name=f"debtor {account}")
    return replace(base, segments=segments, debtors=debtors)


def _segment(item: Any, base: Policy, where: str, legal_rate) -> Segment:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise PolicyError(f"{where}: needs a `name`")
    when = item.get("when") or {}
    if not isinstance(when, dict) or not when:
        raise PolicyError(f"{where}: needs `when` with kind, risk_class, probability_min, "
                          "probability_max, amount_min or amount_max")
    unknown = set(when) - {"kind", "risk_class", "amount_min", "amount_max", "probability_min",
                           "probability_max"}
    if unknown:
        raise PolicyError(f"{where}: unknown condition(s) {', '.join(sorted(unknown))}")
    if when.get("kind") is not None and when["kind"] not in KINDS:
        raise PolicyError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if when.get("risk_class") is not None and when["risk_class"] not in RISK_CLASSES:
        raise PolicyError(f"{where}: risk_class must be one of {', '.join(RISK_CLASSES)}")
    band = {}
    for key in ("probability_min", "probability_max"):
        band[key] = _amount(when.get(key), f"{where}: {key}")
        if band[key] is not None and band[key] > 1:
            raise PolicyError(f"{where}: {key} is a chance between 0 and 1, got {when[key]!r}")
    rest = {k: v for k, v in item.items() if k not in ("name", "when")}
    return Segment(
        name=item["name"], policy=_variant(rest, where, base, legal_rate, name=item["name"]),
        kind=when.get("kind"), risk_class=when.get("risk_class"),
        amount_min=_amount(when.get("amount_min"), f"{where}: amount_min"),
        amount_max=_amount(when.get("amount_max"), f"{where}: amount_max"), **band)


def _variant(data: dict, where: str, start: Policy | None, legal_rate, *, name: str | None = None) -> Policy:
    """A complete policy: `start` with what `data` overrides (or a base from scratch)."""
    unknown = set(data) - set(OVERRIDABLE) - ({"name", "segments", "debtors"} if start is None else set())
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if start is None and not data.get("levels"):
        raise PolicyError(f"{where}: needs a non-empty list `levels`")
    levels = (_levels(_list(data["levels"], f"{where}: levels"), f"{where}: levels")
              if "levels" in data else start.levels)
    _check_ladder(levels, where)
    rate = data.get("contractual_rate", start.contractual_rate if start else None)
    rate = _amount(rate, f"{where}: contractual_rate")
    if rate is not None and legal_rate is not None and rate < 3 * legal_rate:
        raise PolicyError(f"{where}: contractual_rate {rate} % is below 3 × the legal rate "
                          f"({3 * legal_rate} %), the floor of C. com. L441-10")
    return Policy(
        name=str(data.get("name", name or (start.name if start else where))),
        levels=levels,
        min_gap_days=_int(data.get("min_gap_days", start.min_gap_days if start else 5),
                          f"{where}: min_gap_days", minimum=0),
        min_open_amount=_amount(data.get("min_open_amount",
                                         start.min_open_amount if start else "0"),
                                f"{where}: min_open_amount") or Decimal("0"),
        litigation_after_days=_int(data.get("litigation_after_days",
                                            start.litigation_after_days if start else 8),
                                   f"{where}: litigation_after_days", minimum=0),
        contractual_rate=rate,
    )


def _check_ladder(levels: tuple[Level, ...], where: str) -> None:
    numbers = [level.level for level in levels]
    if len(set(numbers)) != len(numbers):
        raise PolicyError(f"{where}: level numbers must be unique, got {numbers}")
    if numbers != sorted(numbers):
        raise PolicyError(f"{where}: levels must be listed in increasing order, got {numbers}")
    if levels[0].relative_to == "previous_level":
        raise PolicyError(f"{where}: the first level must count from the due date")
    notices = [level.level for level in levels if level.is_formal_notice]
    if len(notices) != 1 or notices[0] != numbers[-1]:
        found = f"level {', '.join(map(str, notices))}" if notices else "none"
        raise PolicyError(f"{where}: exactly one level must be the formal notice "
                          f"(kind: formal_notice), and it must be the last level "
                          f"(level {numbers[-1]}); found {found}")
    for level in levels:
        # The ladder sends level 0 before the due date only, and skips it once overdue.
        if (level.level == 0) != (level.kind == COURTESY):
            raise PolicyError(f"{where}: level 0, and only level 0, is the courtesy notice "
                              f"before the due date (kind: courtesy); level {level.level} "
                              f"says {level.kind}")


def _levels(items: list, where: str) -> tuple[Level, ...]:
    """The ladder's levels; a level that does not say its kind gets the documented default:
    level 0 a courtesy notice, the last level the formal notice, the others reminders."""
    if items and isinstance(items[-1], dict) and "kind" not in items[-1]:
        items = [*items[:-1], {**items[-1], "kind": FORMAL_NOTICE}]
    levels, reminders = [], 0
    for i, item in enumerate(items):
        level = _level(item, f"{where}[{i}]", first_reminder=reminders == 0)
        reminders += level.kind == REMINDER
        levels.append(level)
    return tuple(levels)


def _level(item: Any, where: str, *, first_reminder: bool = True) -> Level:
    if not isinstance(item, dict):
        raise PolicyError(f"{where}: must be a mapping")
    relative_to = item.get("relative_to", "previous_level")
    if relative_to not in RELATIVE_TO:
        raise PolicyError(f"{where}: relative_to must be one of {', '.join(RELATIVE_TO)}")
    channels = tuple(item.get("channels", ["email"]))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise PolicyError(f"{where}: channels must be among {', '.join(CHANNELS)}")
    number = _int(item.get("level"), f"{where}: level")
    if not 0 <= number <= 3:
        raise PolicyError(f"{where}: level must be 0 (courtesy) to 3 (formal notice)")
    kind = item.get("kind", COURTESY if number == 0 else REMINDER)
    if kind not in LEVEL_KINDS:
        raise PolicyError(f"{where}: kind must be one of {', '.join(LEVEL_KINDS)}, got {kind!r}")
    registered = item.get("registered", registered_by_default(number, kind))
    if not isinstance(registered, bool):
        raise PolicyError(f"{where}: registered must be true or false, got {registered!r}")
    default_template = {COURTESY: "level0", FORMAL_NOTICE: "level3"}.get(
        kind, "level1" if first_reminder else "level2")
    template = str(item.get("template", default_template))
    # a file name under templates/email/<language>/, never a path
    if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", template):
        raise PolicyError(f"{where}: template must be a name of lowercase letters, digits and "
                          f"'_' (a file of templates/email/<language>/), got {template!r}")
    if BUILT_IN_TEMPLATES.get(template, kind) != kind:
        raise PolicyError(f"{where}: template {template} words a {BUILT_IN_TEMPLATES[template]} "
                          f"notice, not a {kind} (use {default_template}, or a template of "
                          f"your own)")
    return Level(level=number, offset_days=_int(item.get("offset_days", 0), f"{where}: offset_days"),
                 relative_to=relative_to, channels=channels, template=template, kind=kind,
                 registered=registered)


def registered_by_default(number: int, kind: str) -> bool:
    """A level that does not say: registered from level 2 on, as letters went before levels
    said so, and always for the formal notice."""
    return number >= 2 or kind == FORMAL_NOTICE


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise PolicyError(f"{where} must be a list")
    return value


def _int(value: Any, where: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where} must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise PolicyError(f"{where} must be at least {minimum}, got {value}")
    return value


def _amount(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise PolicyError(f"{where}: write amounts and rates as quoted strings, got {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PolicyError(f"{where} must be a number, got {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise PolicyError(f"{where} must be a non-negative number, got {value!r}")
    return amount


def end_of_month(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)
