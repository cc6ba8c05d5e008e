"""The credit manager's report, written by the daily run and by the weekly deployment."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from recouvrement.context import run_context
from tasks.retries import SAFE_RETRIES

# The dashboard (pandas, Altair) is imported by the tasks that use it, not by every run
# that imports the daily flow: a rerun for one debtor writes no report.


@task(name="write-report", cache_policy=NO_CACHE, **SAFE_RETRIES)
def write_dashboard(as_of: date, start: date | None = None, *, pdf: bool = False) -> dict:
    """Write the day's report page (and its PDF) under $RECOUVREMENT_HOME/reports/dashboard/."""
    from recouvrement.queries.dashboard import (compute_report, default_start, headline_markdown,
                                        report_path, write_report)

    ctx = run_context()
    with ctx.db.session() as session:
        report = compute_report(session, ctx.policy, as_of=as_of,
                                start=start or default_start(as_of))
    language = ctx.settings.report_language
    html = write_report(report, report_path(ctx.settings.home, as_of), language)
    files = [html]
    if pdf:
        files.append(write_report(report, report_path(ctx.settings.home, as_of, ".pdf"), language))
    return {"files": [str(f) for f in files], "markdown": headline_markdown(report, html),
            "report": report}


@task(name="mail-report", cache_policy=NO_CACHE)
def mail_dashboard(written: dict) -> list[str]:
    """Send the report to the settings' recipients; the addresses it went to."""
    from recouvrement.queries.dashboard import report_email

    ctx = run_context()
    recipients = ctx.settings.report_recipient_list
    if not recipients:
        return []
    message = report_email(written["report"], [Path(f) for f in written["files"]],
                           sender=ctx.settings.sender, recipients=recipients,
                           language=ctx.settings.report_language)
    with ctx.mailer() as mailer:
        mailer.send(message)
    return recipients
