"""The credit manager's report: figures from the ledger's history, drawn and written.

`compute_report` (figures.py) reads the ledger; `render` formats and draws;
this module writes the files where the user finds them, sums the headline up
for the Prefect UI and mails the report to the people who asked for it.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from recouvrement.queries.dashboard.figures import compute_report
from recouvrement.queries.dashboard.render import labels_for, render_json, write_report
from recouvrement.adapters.mail.render import format_amount

DEFAULT_WEEKS = 13  # a quarter of weekly points when no start is given

__all__ = ["compute_report", "default_start", "headline_markdown", "report_email", "report_path",
           "render_json", "write_report"]


def default_start(as_of: date) -> date:
    return as_of - timedelta(weeks=DEFAULT_WEEKS)


def report_path(home: Path, as_of: date, suffix: str = ".html") -> Path:
    """Where a run writes the report of a day: $RECOUVREMENT_HOME/reports/dashboard/."""
    return home / "reports" / "dashboard" / f"rapport-{as_of.isoformat()}{suffix}"


def _euros(value) -> str:
    return format_amount(value, "EUR", "en")


def headline_markdown(report: dict[str, Any], link: Path | None) -> str:
    """The headline figures for the Prefect UI, with the week's trend and where the page is."""
    head = report["headline"]
    points = [p for p in report["dso"]["points"] if p["dso"] is not None]
    before = points[-2]["dso"] if len(points) > 1 else None
    change = (f"{head['dso'] - before:+} days since {points[-2]['day']}"
              if before is not None and head["dso"] is not None else "no earlier week")
    trend = head["dso_trend_per_week"]
    lines = [f"# Collection dashboard of {report['as_of']}", "",
             "| figure | value |", "|---|---:|",
             f"| receivables | {_euros(head['receivables'])} |",
             f"| overdue | {_euros(head['overdue'])} ({head['overdue_share'] or 0} %) |",
             f"| DSO (countback) | {head['dso'] if head['dso'] is not None else '—'} days "
             f"({change}) |",
             f"| DSO trend | {'—' if trend is None else f'{trend:+} days a week'} |",
             f"| CEI of {head['cei_month'] or '—'} | {head['cei_last_month'] or '—'} % |"]
    for row in report["recovery"]:
        lines.append(f"| level {row['level']} recovered within 15 days | "
                     f"{row['share'] if row['share'] is not None else '—'} % |")
    aged = report["aged_balance"]["total"]
    lines += ["", "| not yet due | 1–30 | 31–60 | 61–90 | over 90 |", "|---:|---:|---:|---:|---:|",
              "| " + " | ".join(_euros(aged[b]) for b in report["aged_balance"]["buckets"]) + " |"]
    if link is not None:
        lines += ["", f"The whole report, with its charts: [{link.name}]({link.resolve().as_uri()})"
                      f" (`{link}`)"]
    return "\n".join(lines)


def report_email(report: dict[str, Any], files: list[Path], *, sender: str,
                 recipients: list[str], language: str = "fr") -> EmailMessage:
    """The report as an e-mail: the headline in the text, the page and its PDF attached."""
    t = labels_for(language)
    head = report["headline"]
    message = EmailMessage()
    message["Subject"] = f"{t['title']} — {report['as_of'].isoformat()}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    amount = lambda v: format_amount(v, "EUR", language)  # noqa: E731
    message.set_content("\n".join([
        t["title"], t["period"].format(start=report["start"], as_of=report["as_of"]), "",
        f"{t['receivables']}: {amount(head['receivables'])}",
        f"{t['overdue']}: {amount(head['overdue'])}",
        f"{t['dso']}: {head['dso'] if head['dso'] is not None else '—'}",
        f"{t['cei_month'].format(month=head['cei_month'] or '—')}: "
        f"{head['cei_last_month'] or '—'}", ""]))
    for path in files:
        kind = ("application", "pdf") if path.suffix == ".pdf" else ("text", "html")
        message.add_attachment(path.read_bytes(), maintype=kind[0], subtype=kind[1],
                               filename=path.name)
    return message
