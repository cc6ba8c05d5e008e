"""The validation report a credit manager reads: one short French HTML page per file.

Beside Great Expectations' Data Docs page (kept for engineers), it says what
was read (file, format, profile, rows), the file's control totals, and each
quarantined row with its line, its raw values, why it was held back and how
to fix it in the accounting software (`reasons_fr.py`). The page is
self-contained (its style inline, no script, no link out) and every value
is escaped by the template: debtor text is hostile.

Other steps may add control totals of their own (`controls`): label and
value, already worded, shown in the same table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from recouvrement.ingest.columns import LINE
from recouvrement.ingest.parsing import parse_amount
from recouvrement.ingest.reasons_fr import explain, short_label
from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, format_amount, format_date
from recouvrement.adapters.private_files import private_dir, write_private

TEMPLATE = "reports/validation_fr.html"
KIND_LABELS = {"customers": "fichier des clients", "invoices": "échéancier (factures ouvertes)",
               "fec": "Fichier des Écritures Comptables (FEC)"}
SEPARATOR_LABELS = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}
SHOWN_ROWS = 500  # quarantined rows listed in full; the rest are counted


@dataclass
class FileSummary:
    """What the report says about one file; built by `summarise` from the import step."""

    file_name: str
    kind: str
    rows: int
    loaded: int
    quarantined_rows: list[dict[str, Any]]  # line, raw (dict), reasons (list of English reasons)
    ignored: int = 0
    profile: str | None = None
    profile_label: str | None = None
    sheet: str | None = None
    separator: str | None = None
    header_line: int | None = None
    export_date: date | None = None
    amounts: list[tuple[str, Decimal, str]] = field(default_factory=list)  # label, amount, currency
    controls: list[tuple[str, str]] = field(default_factory=list)  # label, worded value
    engineer_report: Path | None = None
    titles: dict[str, str] = field(default_factory=dict)  # canonical column -> the file's header


def summarise(item, profiles: dict | None = None, engineer_report: Path | None = None,
              controls: Sequence[tuple[str, str]] = ()) -> FileSummary:
    """The summary of one checked file (`batches.CheckedFile`)."""
    attrs = item.raw.attrs
    name = attrs.get("profile")
    profile = (profiles or {}).get(name)
    rows = [{"line": int(q[LINE]), "raw": dict(q["raw"]), "reasons": list(q["reasons"])}
            for q in item.quarantined.sort_values(LINE).to_dict("records")]
    return FileSummary(
        file_name=item.export.path.name, kind=item.export.kind, rows=item.rows, loaded=item.loaded,
        quarantined_rows=rows, ignored=item.ignored, profile=name,
        profile_label=profile.label if profile is not None else None, sheet=attrs.get("sheet"),
        separator=attrs.get("separator"), header_line=attrs.get("header_line"),
        export_date=item.export_date, amounts=_amounts(item), controls=list(controls),
        engineer_report=engineer_report, titles=dict(attrs.get("titles") or {}))


def _amounts(item) -> list[tuple[str, Decimal, str]]:
    """Amounts loaded (per currency) and, for open items, what the quarantined rows say they owe."""
    good = item.good
    found = []
    if item.export.kind != "customers" and len(good) and "open_amount" in good:
        for currency, rows in sorted(good.groupby("currency"), key=lambda g: g[0]):
            found.append(("Montant des pièces chargées", sum(rows["amount"], Decimal(0)), currency))
            found.append(("Reste dû chargé (avoirs déduits)",
                          sum(rows["open_amount"], Decimal(0)), currency))
    if item.export.kind == "invoices" and len(item.quarantined):
        held: dict[str, list[Decimal]] = {}
        unreadable = 0
        for raw in item.quarantined["raw"]:
            amount = parse_amount(str(raw.get("open_amount") or ""))
            if amount is None:
                unreadable += 1
                continue
            held.setdefault(str(raw.get("currency") or "EUR").upper(), []).append(amount)
        for currency, amounts in sorted(held.items()):
            label = "Reste dû des lignes en quarantaine, tel qu'écrit dans le fichier"
            if unreadable:
                label += f" ({unreadable} ligne(s) sans montant lisible)"
            found.append((label, sum(amounts, Decimal(0)), currency))
    return found


def report_file(item, folder: Path | None, engineer_report: Path | None, profiles: dict,
                summary: dict[str, Any]) -> Path | None:
    """The import step's hook: write the file's page and note its path in the file's summary.

    `summary` is the file's entry of `IngestReport.files`; its optional
    `controls` (label, worded value) are shown with the control totals.
    """
    page = summarise(item, profiles, engineer_report, summary.get("controls", ()))
    if summary.get("held"):  # held back whole: nothing loaded, its own figures in `controls`
        page.loaded, page.amounts = 0, []
    path = write_manager_report(page, folder, item.export.sha256)
    summary["summary_report"] = str(path) if path else None
    return path


def write_manager_report(summary: FileSummary, folder: Path | None, sha256: str,
                         generated: datetime | None = None) -> Path | None:
    """Write the page beside the file's Data Docs page; its path, or None without a folder."""
    if folder is None:
        return None
    page = render(summary, generated or datetime.now())
    private_dir(folder)  # the rows quoted are debtors' data: owner-only
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(summary.file_name).stem)[:100]
    return write_private(folder / f"{stem}-{sha256[:12]}-rapport.html", page)


def render(summary: FileSummary, generated: datetime) -> str:
    return _environment().get_template(TEMPLATE).render(**_view(summary, generated))


def _view(s: FileSummary, generated: datetime) -> dict[str, Any]:
    """Plain rows for the template: everything worded and formatted here."""
    read = [("Fichier", s.file_name), ("Nature", KIND_LABELS.get(s.kind, s.kind)),
            ("Format", _format_of(s))]
    if s.profile:
        read.append(("Profil de correspondance",
                     f"{s.profile} — {s.profile_label}" if s.profile_label else s.profile))
    elif s.kind != "fec":
        read.append(("Profil de correspondance", "aucun (en-têtes au format standard)"))
    if s.header_line:
        read.append(("Ligne d'en-tête", str(s.header_line)))
    if s.export_date:
        read.append(("Date de l'export (situation au)", format_date(s.export_date, "fr")))
    totals = [("Lignes lues", _count(s.rows)), ("Lignes chargées dans le registre", _count(s.loaded)),
              ("Lignes en quarantaine", _count(len(s.quarantined_rows)))]
    if s.ignored:
        totals.append(("Lignes sans objet pour le recouvrement (autres comptes que 411)",
                       _count(s.ignored)))
    totals += [(label, _money(amount, currency)) for label, amount, currency in s.amounts]
    totals += list(s.controls)
    rows = [_row_view(r, s.titles) for r in s.quarantined_rows[:SHOWN_ROWS]]
    return {"file_name": s.file_name, "generated": generated.strftime("%d/%m/%Y à %H:%M"),
            "read": read, "totals": totals, "rows": rows,
            "quarantined": len(s.quarantined_rows),
            "not_shown": max(0, len(s.quarantined_rows) - SHOWN_ROWS),
            "engineer_report": s.engineer_report.name if s.engineer_report else None}


def _row_view(row: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """The row's values under the file's own column titles, with what each one holds."""
    raw = [{"column": titles.get(column) or column, "label": short_label(column),
            "value": str(value)}
           for column, value in row["raw"].items() if value not in ("", None)]
    reasons = [explain(reason) for reason in row["reasons"]]
    return {"line": row["line"], "raw": raw,
            "reasons": [{"text": e.text, "advice": e.advice, "original": e.reason, "known": e.known}
                        for e in reasons]}


def _format_of(s: FileSummary) -> str:
    suffix = Path(s.file_name).suffix.lower()
    if suffix == ".xlsx":
        return f"classeur Excel, feuille « {s.sheet} »" if s.sheet else "classeur Excel"
    kind = "FEC (texte délimité)" if s.kind == "fec" else "texte délimité (CSV)"
    if s.separator:
        kind += f", séparateur {SEPARATOR_LABELS.get(s.separator, repr(s.separator))}"
    return kind


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _money(amount: Decimal, currency: str) -> str:
    try:
        return format_amount(Decimal(amount), currency or "EUR", "fr")
    except (InvalidOperation, ValueError):
        return str(amount)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(DEFAULT_TEMPLATES)),
                       autoescape=select_autoescape(enabled_extensions=("html",), default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
