"""The weekly report: every Monday morning, written and mailed to the credit managers."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger

from flows.artifacts import publish_dashboard
from recouvrement.services.agency.selection import using_creditor
from recouvrement.domain.calendar import today_in
from recouvrement.config.settings import load_settings
from tasks.report import mail_dashboard, write_dashboard


@flow(name="weekly-report", log_prints=True)
def weekly_report(as_of: date | None = None, start: date | None = None,
                  creditor: str | None = None) -> dict:
    """Write the report as of `as_of` (today) as HTML and PDF, and mail it. In agency mode
    it is one creditor's (`creditor`), and refused without one: each creditor's report also
    goes to it on its own schedule through the daily run."""
    with using_creditor(creditor or None, guard=True):
        return _weekly_report(as_of, start)


def _weekly_report(as_of: date | None, start: date | None) -> dict:
    as_of = as_of or today_in(load_settings().timezone)
    written = write_dashboard(as_of, start, pdf=True)
    publish_dashboard(written["markdown"])
    sent_to = mail_dashboard(written)
    logger = get_run_logger()
    logger.info("Report written to %s", ", ".join(written["files"]))
    if sent_to:
        logger.info("Report mailed to %d recipient(s)", len(sent_to))
    else:
        logger.info("No recipient set (report_recipients): the report was not mailed")
    return {"as_of": as_of.isoformat(), "files": written["files"], "mailed_to": len(sent_to)}
