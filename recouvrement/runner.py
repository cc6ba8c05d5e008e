"""Run the daily flow in this process and tell the user what happened."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Callable

import click

from recouvrement.settings import Settings


def connect_or_exit(settings: Settings) -> str:
    """Point this process at its Prefect server; if there is none, say so in one line, exit 1.

    Called before the run reads or changes anything.
    """
    from recouvrement.orchestrator import Unreachable, connect

    try:
        return connect(settings.home, timeout=settings.prefect_startup_timeout_seconds,
                       retries=settings.prefect_startup_retries)
    except Unreachable as exc:
        click.echo(f"error: no Prefect server to run on: {exc}; nothing was changed", err=True)
        raise SystemExit(1) from exc

def run_daily(*, as_of: date | None, debtor: str | None, dry_run: bool,
              fail: Callable[[str], None]) -> dict:
    """The flow's summary; bad input goes to `fail` (exit 2) with nothing changed."""
    from flows.daily import INPUT_ERRORS, StepFailed, daily_dunning
    from recouvrement.ingest.errors import FilesHeld

    try:
        return daily_dunning(as_of=as_of, debtor=debtor, dry_run=dry_run)
    except FilesHeld as exc:
        print_ingest(exc.report)
        click.echo("  the run stopped before deciding anything: a file is held back")
        fail(str(exc))
        raise
    except INPUT_ERRORS as exc:
        fail(str(exc))
        raise  # fail() exits; this keeps type checkers honest
    except StepFailed as exc:
        from recouvrement.logfile import log_path
        from recouvrement.settings import load_settings

        click.echo(f"Run failed: {exc} (details in {log_path(load_settings().home)})", err=True)
        raise SystemExit(1) from exc


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
