"""The report as one self-contained HTML page (charts inline as SVG), as PDF, as JSON.

Python formats every figure for the reader's language; the template only
places them.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

from recouvrement.queries.dashboard import charts
from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES, format_amount, format_date
from recouvrement.adapters.private_files import private_dir, write_private

TEMPLATES = DEFAULT_TEMPLATES / "report"
LANGUAGES = ("fr", "en")


@lru_cache(maxsize=None)
def labels_for(language: str) -> dict[str, str]:
    return yaml.safe_load((TEMPLATES / "labels.yaml").read_text(encoding="utf-8"))[language]


def _euros(value: Decimal | None, language: str) -> str:
    return "—" if value is None else format_amount(value, "EUR", language)


def _number(value: Decimal | int | None, language: str, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value}"
    if language == "fr":
        text = text.replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


def _signed(value: Decimal | None, language: str, unit: str) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    return sign + _number(value, language, unit)


def view(report: dict[str, Any], language: str) -> dict[str, Any]:
    """The figures formatted for the page: every string the reader sees."""
    t = labels_for(language)
    eur = lambda v: _euros(v, language)  # noqa: E731
    pct = lambda v: _number(v, language, "%")  # noqa: E731
    days = lambda v: _number(v, language, t["day_unit"])  # noqa: E731
    day = lambda d: format_date(d, language)  # noqa: E731
    head, aged = report["headline"], report["aged_balance"]
    buckets = list(aged["buckets"])

    def aged_rows(table: dict[str, dict[str, Decimal]], name) -> list[dict[str, Any]]:
        return [{"name": name(group), "cells": [eur(row[b]) for b in buckets],
                 "total": eur(sum(row.values(), Decimal(0)))} for group, row in sorted(table.items())]

    kind_label = lambda k: t.get(f"kind_{k}", k)  # noqa: E731
    litigation = report["litigation"]
    return {
        "lang": language, "t": t,
        "period": t["period"].format(start=day(report["start"]), as_of=day(report["as_of"])),
        "generated": t["generated"].format(as_of=day(report["as_of"])),
        "headline": [
            (t["receivables"], eur(head["receivables"])),
            (t["overdue"], eur(head["overdue"])),
            (t["overdue_share"], pct(head["overdue_share"])),
            (t["dso"], days(head["dso"])),
            (t["dso_trend"], f"{_signed(head['dso_trend_per_week'], language, t['day_unit'])} "
                             f"{t['per_week']}"),
            (t["cei_month"].format(month=head["cei_month"] or "—"), pct(head["cei_last_month"])),
            (t["open_invoices"], str(head["open_invoices"])),
            (t["debtors"], str(head["debtors"])),
        ],
        "other_currencies": (t["other_currencies"].format(count=head["other_currencies"])
                             if head["other_currencies"] else None),
        "bucket_names": [t[f"bucket_{b}"] for b in buckets],
        "aged_by_kind": aged_rows(aged["by_kind"], kind_label),
        "aged_by_segment": aged_rows(aged["by_segment"],
                                     lambda s: t.get(f"segment_{s}", s)),
        "aged_total": {"cells": [eur(aged["total"][b]) for b in buckets],
                       "total": eur(sum(aged["total"].values(), Decimal(0)))},
        "cei": [{"month": m["month"], "opening": eur(m["opening"]), "sales": eur(m["sales"]),
                 "closing": eur(m["closing"]), "current": eur(m["closing_current"]),
                 "cei": pct(m["cei"])} for m in report["cei"]],
        "recovery": [{"level": t[f"level_{r['level']}"], "invoices": r["invoices"],
                      "chased": eur(r["chased"]), "recovered": eur(r["recovered"]),
                      "share": pct(r["share"]), "median": days(r["median_days_to_settle"])}
                     for r in report["recovery"]],
        "promises": report["promises"], "plans": report["plans"],
        "disputes": {**report["disputes"], "amount": eur(report["disputes"]["amount"]),
                     "median": days(report["disputes"]["median_age_days"]),
                     "oldest": days(report["disputes"]["oldest_age_days"])},
        "litigation": [{"stage": t[f"stage_{s['stage']}"], "dossiers": s["dossiers"],
                        "claimed": eur(s["claimed"]), "recovered": eur(s["recovered"])}
                       for s in litigation],
        "top": [{**r, "overdue": eur(r["overdue"]), "oldest": days(r["oldest_days"]),
                 "kind": kind_label(r["kind"]),
                 "risk": (f"{t.get('risk_' + r['risk_class'], r['risk_class'])} ({r['risk_score']})"
                          if r["risk_class"] else "—")} for r in report["top_debtors"]],
        "prescriptions": [{**r, "open": eur(r["open"]), "limit": day(r["limit"])}
                          for r in report["prescriptions"]],
        "charts": {
            "aged": charts.aged_balance_chart(aged, t, language),
            "dso": charts.dso_chart(report["dso"]["points"], report["dso"]["trend"], t, language),
            "recovery": charts.recovery_chart(report["recovery"], t, language),
            "funnel": charts.litigation_funnel(
                litigation, [f"{s['dossiers']} · {eur(s['claimed'])}" for s in litigation], t,
                language),
        },
    }


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def render_html(report: dict[str, Any], language: str = "fr") -> str:
    page = view(report, language)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _environment().get_template("report.html").render(**page, css=css)


def render_pdf(html: str) -> bytes:
    from recouvrement.adapters.pdf import default_renderer

    return default_renderer().render(html, base_url=str(TEMPLATES))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "per_week"):  # the DSO trend
        return {"per_week": _plain(value.per_week), "first": _plain(value.first),
                "last": _plain(value.last)}
    return value


def render_json(report: dict[str, Any]) -> str:
    """Money as two-decimal strings, dates ISO, ratios as decimal strings."""
    return json.dumps(_plain(report), indent=2, ensure_ascii=False)


def write_report(report: dict[str, Any], out: Path, language: str = "fr") -> Path:
    """Write the page (`.html`) or its PDF (`.pdf`) to `out`, owner-only."""
    html = render_html(report, language)
    data = render_pdf(html) if out.suffix.lower() == ".pdf" else html.encode("utf-8")
    private_dir(out.parent)
    return write_private(out, data)
