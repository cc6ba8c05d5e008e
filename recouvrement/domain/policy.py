"""Dunning policies as data: the ladder's levels, gaps and thresholds, from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

RELATIVE_TO = ("due_date", "previous_level")
CHANNELS = ("email", "letter", "phone")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Level:
    level: int
    offset_days: int
    relative_to: str
    channels: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    min_gap_days: int = 5
    min_open_amount: Decimal = Decimal("0")
    litigation_after_days: int = 8

    def level(self, number: int) -> Level:
        for level in self.levels:
            if level.level == number:
                return level
        raise KeyError(number)

    @property
    def last_level(self) -> int:
        return self.levels[-1].level


def load_policy(path: Path | None = None) -> Policy:
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
    return parse_policy(data, where)


def parse_policy(data: Any, where: str = "policy") -> Policy:
    if not isinstance(data, dict) or not isinstance(data.get("levels"), list) or not data["levels"]:
        raise PolicyError(f"{where}: needs a non-empty list `levels`")
    levels = tuple(_level(item, f"{where}: levels[{i}]") for i, item in enumerate(data["levels"]))
    numbers = [level.level for level in levels]
    if len(set(numbers)) != len(numbers):
        raise PolicyError(f"{where}: level numbers must be unique, got {numbers}")
    if numbers != sorted(numbers):
        raise PolicyError(f"{where}: levels must be listed in increasing order, got {numbers}")
    if levels[0].relative_to != "due_date":
        raise PolicyError(f"{where}: the first level must count from the due date")
    try:
        minimum = Decimal(str(data.get("min_open_amount", "0")))
    except InvalidOperation as exc:
        raise PolicyError(f"{where}: min_open_amount must be an amount") from exc
    return Policy(
        name=str(data.get("name", where)),
        levels=levels,
        min_gap_days=_int(data.get("min_gap_days", 5), f"{where}: min_gap_days"),
        min_open_amount=minimum,
        litigation_after_days=_int(data.get("litigation_after_days", 8),
                                   f"{where}: litigation_after_days"),
    )


def _level(item: Any, where: str) -> Level:
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
    return Level(level=number, offset_days=_int(item.get("offset_days", 0), f"{where}: offset_days"),
                 relative_to=relative_to, channels=channels,
                 template=str(item.get("template", f"level{number}")))


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where} must be a whole number, got {value!r}")
    return value
