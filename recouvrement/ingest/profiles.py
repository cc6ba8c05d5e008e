"""Mapping profiles: YAML files that map an accounting tool's headers to the canonical columns.

A profile is chosen from the header row (the one that recognises the most
columns and all the required ones) or named by the user. Shipped profiles
live in `recouvrement/ingest/profiles/`; a creditor's own go in
`$RECOUVREMENT_HOME/profiles/` and win over a shipped one of the same name.
See README.md, "Accounting exports", for how to write one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# libyaml's loader when it is there (the same documents, several times faster): every run
# reads the shipped profiles.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from recouvrement.ingest.columns import COLUMNS, REQUIRED
from recouvrement.ingest.errors import InputFileError

SHIPPED = Path(__file__).with_name("profiles")
DEFAULT_TOKENS = ("file_date", "today")  # defaults computed when a file is read
_KIND_KEYS = {"sheet", "columns", "values", "defaults"}


class ProfileError(InputFileError):
    """A mapping profile that cannot be used (bad YAML, unknown column, unknown name)."""


def fold(text: object) -> str:
    """A header or value as compared: no accents, case, punctuation or extra spaces."""
    text = str(text).replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


@dataclass(frozen=True)
class KindSpec:
    columns: dict[str, tuple[str, ...]]  # canonical name -> folded header spellings
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # folded value -> value
    defaults: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    source: Path
    kinds: dict[str, KindSpec]
    sources: tuple[str, ...] = ()  # where the column titles come from (vendor docs, code)


@dataclass(frozen=True)
class HeaderMap:
    """How one header row maps onto the canonical columns."""

    profile: str | None
    columns: dict[str, int]  # canonical name -> position in the row
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def load_profiles(extra_dir: Path | None = None) -> dict[str, Profile]:
    """The shipped profiles, then the creditor's own (same name: the creditor's wins)."""
    profiles = {}
    for folder in (SHIPPED, extra_dir):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.y*ml")):
            profile = load_profile(path)
            profiles[profile.name] = profile
    return profiles


def load_profile(path: Path) -> Profile:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(path, f"not a readable YAML mapping profile ({exc})") from exc
    if not isinstance(data, dict):
        raise ProfileError(path, "a mapping profile is a YAML mapping (name, label, source, "
                                 "invoices, customers)")
    unknown = set(data) - {"name", "label", "source", "invoices", "customers"}
    if unknown:
        raise ProfileError(path, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    kinds = {kind: _kind_spec(path, kind, data[kind]) for kind in COLUMNS if kind in data}
    if not kinds:
        raise ProfileError(path, "maps neither invoices nor customers")
    sources = data.get("source") or []
    sources = [sources] if isinstance(sources, str) else sources
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ProfileError(path, "source: a text or a list of texts (where the columns come from)")
    return Profile(name=str(data.get("name") or path.stem), label=str(data.get("label") or ""),
                   source=path, kinds=kinds, sources=tuple(sources))


def _kind_spec(path: Path, kind: str, data: object) -> KindSpec:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise ProfileError(path, f"{kind}: needs a `columns` mapping")
    unknown = set(data) - _KIND_KEYS
    if unknown:
        raise ProfileError(path, f"{kind}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    allowed = COLUMNS[kind]
    columns = {}
    for name, spellings in data["columns"].items():
        if name not in allowed:
            raise ProfileError(path, f"{kind}: {name!r} is not a column ({', '.join(allowed)})")
        spellings = [spellings] if isinstance(spellings, str) else spellings
        if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
            raise ProfileError(path, f"{kind}.columns.{name}: a header or a list of headers")
        columns[name] = tuple(fold(s) for s in spellings)
    values = {}
    for name, mapping in (data.get("values") or {}).items():
        if name not in allowed or not isinstance(mapping, dict):
            raise ProfileError(path, f"{kind}.values.{name}: a known column and a mapping of values")
        values[name] = {fold(k): str(v) for k, v in mapping.items()}
    defaults = {}
    for name, value in (data.get("defaults") or {}).items():
        if name not in allowed:
            raise ProfileError(path, f"{kind}.defaults: {name!r} is not a column")
        defaults[name] = str(value)
    sheet = data.get("sheet")
    return KindSpec(columns=columns, values=values, defaults=defaults,
                    sheet=None if sheet is None else str(sheet))


def resolve_header(cells: list[str], kind: str, profiles: dict[str, Profile],
                   named: str | None = None, source: Path | None = None) -> HeaderMap | None:
    """The mapping of this header row, or None when it is not a header of this kind."""
    folded = [fold(c) for c in cells]
    position = {}
    for index, name in enumerate(folded):
        position.setdefault(name, index)
    required = REQUIRED[kind]
    canonical = {c: position[fold(c)] for c in COLUMNS[kind] if fold(c) in position}
    if all(c in canonical for c in required):
        return HeaderMap(profile=None, columns=canonical)  # no profile needed, named or not
    if named is None:
        candidates = [p for p in profiles.values() if kind in p.kinds]
    else:
        if named not in profiles:
            raise ProfileError(source or Path(named), f"no mapping profile named {named!r} "
                                                      f"(known: {', '.join(sorted(profiles)) or 'none'})")
        candidates = [profiles[named]] if kind in profiles[named].kinds else []
    scored = []
    for profile in candidates:
        mapping = _map(profile, kind, position)
        spec = profile.kinds[kind]
        if all(c in mapping.columns or c in spec.defaults for c in required):
            scored.append((len(mapping.columns), profile.name, mapping))
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], item[1]))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        raise ProfileError(source or Path("."), f"the header row fits the mapping profiles "
                                                f"{scored[0][1]!r} and {scored[1][1]!r} equally: "
                                                "name one (recouvrement ingest --profile NAME)")
    return scored[0][2]


def known_names(kind: str, profiles: dict[str, Profile]) -> set[str]:
    """Every folded header a canonical column or a profile knows for this kind."""
    names = {fold(c) for c in COLUMNS[kind]}
    for profile in profiles.values():
        for spellings in profile.kinds.get(kind, KindSpec(columns={})).columns.values():
            names.update(spellings)
    return names


def _map(profile: Profile, kind: str, position: dict[str, int]) -> HeaderMap:
    """The profile's spellings first, then the canonical name, each header used once."""
    spec = profile.kinds[kind]
    columns: dict[str, int] = {}
    for name in COLUMNS[kind]:
        for spelling in spec.columns.get(name, ()) + (fold(name),):
            if spelling in position and position[spelling] not in columns.values():
                columns[name] = position[spelling]
                break
    return HeaderMap(profile=profile.name, columns=columns, values=spec.values,
                     defaults=spec.defaults)
