"""Run the daily flow in this process and tell the user what happened."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Callable

import click

from recouvrement.config.settings import Settings


def connect_or_exit(settings: Settings) -> str:
    """Point this process at its Prefect server; if there is none, say so in one line, exit 1.

    Called before the run reads or changes anything.
    """
    from recouvrement.adapters.orchestrator import Unreachable, connect

    try:
        return connect(settings.home, timeout=settings.prefect_startup_timeout_seconds,
                       retries=settings.prefect_startup_retries)
    except Unreachable as exc:
        click.echo(f"error: no Prefect server to run on: {exc}; nothing was changed", err=True)
        raise SystemExit(1) from exc

def run_daily(*, as_of: date | None, debtor: str | None, dry_run: bool,
              fail: Callable[[str], None], creditor: str | None = None) -> dict:
    """The flow's summary; bad input goes to `fail` (exit 2) with nothing changed.

    Agency mode, without `creditor`: the summary of every creditor's run
    (`{"creditors": {code: {"exit", "error", "summary"}}}`), even when some failed."""
    from flows.daily import INPUT_ERRORS, CreditorsFailed, StepFailed, daily_dunning
    from recouvrement.ingest.errors import FilesHeld

    try:
        return daily_dunning(as_of=as_of, debtor=debtor, dry_run=dry_run, creditor=creditor)
    except CreditorsFailed as exc:
        return exc.summary
    except FilesHeld as exc:
        print_ingest(exc.report)
        click.echo("  the run stopped before deciding anything: a file is held back")
        fail(str(exc))
        raise
    except INPUT_ERRORS as exc:
        fail(str(exc))
        raise  # fail() exits; this keeps type checkers honest
    except StepFailed as exc:
        from recouvrement.adapters.logfile import log_path
        from recouvrement.config.settings import load_settings

        click.echo(f"Run failed: {exc} (details in {log_path(load_settings().home)})", err=True)
        raise SystemExit(1) from exc


def print_creditors(summary: dict, echo: Callable[[str], None] = click.echo) -> int:
    """Agency mode: each creditor's run, one after the other; the worst exit code."""
    worst = 0
    for code, result in summary["creditors"].items():
        echo(f"== creditor {code}")
        if result["summary"] is not None:
            print_summary(result["summary"], echo)
        if result.get("held"):
            print_ingest(result["held"], echo)
        if result["error"]:
            word = "refused" if result["exit"] == 2 else "failed"
            echo(f"  {word}: {result['error']}")
        worst = max(worst, result["exit"])
    return worst


def print_ingest(ingest: dict, echo: Callable[[str], None] = click.echo) -> None:
    """The exports read: per file, rows, quarantine and the control total."""
    from recouvrement.ingest.manual import control_line

    files = [f for f in ingest.get("files", []) if not f["skipped"]]
    if files:
        echo(f"  exports read: {len(files)}")
    for f in files:
        state = ", HELD BACK (nothing loaded)" if f.get("held") else ""
        echo(f"  {f['file']}: {f['loaded']} ok, {f['quarantined']} quarantined{state}")
        if control_line(f):
            echo("  " + control_line(f))
        if f.get("confirmed_despite"):
            echo(f"    confirmed, applied although {'; '.join(f['confirmed_despite'])}")
    for r in ingest.get("refused", []):
        echo(f"  not read {r['file']}: {r['reason']}")
    for q in ingest.get("quarantined", []):
        echo(f"  quarantined {q['file']} line {q['line']}: {'; '.join(q['reasons'])}")
    from recouvrement.ingest.manual import reading_notes

    for line in reading_notes(ingest.get("notes", []), ingest.get("imputations", [])):
        echo(line)


def print_summary(summary: dict, echo: Callable[[str], None] = click.echo) -> None:
    ingest, plan, send = summary.get("ingest", {}), summary["plan"], summary["send"]
    head = "Dry run (nothing sent or recorded)" if summary["dry_run"] else "Run"
    scope = f", debtor {summary['debtor']}" if summary.get("debtor") else ""
    echo(f"{head} of {summary['as_of']}{scope}")
    print_ingest(ingest, echo)
    if ingest.get("invoices_settled"):
        echo(f"  invoices settled since the last export: {len(ingest['invoices_settled'])}")
    verb = "would send" if summary["dry_run"] else "planned"
    for p in plan["planned"]:
        echo(f"  {verb} level {p['level']} to {p['account']}: {', '.join(p['invoices'])}")
    for s in plan["skipped"]:
        echo(f"  skipped {s['account']}: {s['reason']}")
    if summary["dry_run"]:  # the full explanation, debtor by debtor
        for n in plan.get("nothing", []):
            echo(f"  nothing for {n['account']}: {n['reason']}")
    for p in plan.get("plans", []):
        echo(f"  {'FLAG ' if p['state'] == 'broken' else ''}{p['account']}: {p['reason']}")
    for n in plan.get("notes", []):
        echo(f"  note {n['account']}: {n['note']}")
    if not summary["dry_run"]:
        levels = Counter(s["level"] for s in send["sent"])
        echo(f"  sent: {len(send['sent'])}"
             + (" (" + ", ".join(f"level {k}: {v}" for k, v in sorted(levels.items())) + ")"
                if levels else ""))
        if send.get("letters"):
            echo(f"  letters in the print queue: {len(send['letters'])}")
        for w in send.get("switched", []):
            echo(f"  by letter instead {w['account']} level {w['level']}: {w['error']}")
        for f in send["failed"]:
            what = "NEEDS ATTENTION" if f.get("given_up") else "FAILED"
            echo(f"  {what} {f['account']} level {f['level']}: {f['error']}")
        for w in send.get("deferred", []):
            echo(f"  {w['channel']} waiting {w['account']} level {w['level']}: {w['why']}")
        for w in send.get("skipped", []):
            echo(f"  {w['channel']} not sent {w['account']} level {w['level']}: {w['why']}")
        for c in send["cancelled"]:
            echo(f"  cancelled {c['account']} level {c['level']}: "
                 f"{c.get('why') or 'paid or disputed since planned'}")
    for d in summary["litigation"]:
        echo(f"  litigation: {d['debtor']} {d['total']} EUR ({d['procedure']}), dossier {d['id']}")
    if summary.get("not_ready"):
        echo(f"  dossiers held back, not ready for litigation: {summary['not_ready']} "
             "(recouvrement litigation not-ready)")
    echo(f"  debtors with nothing due: {plan['nothing_due']}")
    if summary.get("agency"):
        print_obligations(summary["agency"], echo)


def print_obligations(agency: dict, echo: Callable[[str], None] = click.echo) -> None:
    """Agency mode: what the run did of the agency's duties to the creditor (R124-5, -6)."""
    feed, report = agency.get("feed") or {}, agency.get("report") or {}
    if feed.get("reported"):
        echo(f"  creditor informed (R124-5): {feed['reported']} event(s) mailed to "
             f"{', '.join(feed['to'])}")
    if report.get("sent"):
        echo(f"  creditor's report for {report['period']} mailed to {', '.join(report['to'])}")
    if agency.get("payments_booked"):
        echo(f"  agency payments booked by the creditor since: {agency['payments_booked']}")
    for warning in agency.get("warnings", []):
        echo(f"  WARNING {warning}")
