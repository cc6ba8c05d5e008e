"""Run the daily flow in this process and tell the user what happened."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Callable

import click



def run_daily(*, as_of: date | None, debtor: str | None, dry_run: bool,
              fail: Callable[[str], None]) -> dict:
    """The flow's summary; bad input goes to `fail` (exit 2) with nothing changed."""
    from flows.daily import INPUT_ERRORS, StepFailed, daily_dunning

    try:
        return daily_dunning(as_of=as_of, debtor=debtor, dry_run=dry_run)
    except INPUT_ERRORS as exc:
        fail(str(exc))
        raise  # fail() exits; this keeps type checkers honest
    except StepFailed as exc:
        click.echo(f"Run failed: {exc}", err=True)
        raise SystemExit(1) from exc


def print_summary(summary: dict, echo: Callable[[str], None] = click.echo) -> None:
    ingest, plan, send = summary.get("ingest", {}), summary["plan"], summary["send"]
    head = "Dry run (nothing sent or recorded)" if summary["dry_run"] else "Run"
    scope = f", debtor {summary['debtor']}" if summary.get("debtor") else ""
    echo(f"{head} of {summary['as_of']}{scope}")
    files = [f for f in ingest.get("files", []) if not f["skipped"]]
    if files:
        echo(f"  exports read: {len(files)} ("
             + ", ".join(f"{f['file']}: {f['loaded']} ok, {f['quarantined']} quarantined"
                         for f in files) + ")")
    for r in ingest.get("refused", []):
        echo(f"  not read {r['file']}: {r['reason']}")
    for q in ingest.get("quarantined", []):
        echo(f"  quarantined {q['file']} line {q['line']}: {'; '.join(q['reasons'])}")
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
            what = "GIVEN UP" if f.get("given_up") else "FAILED"
            echo(f"  {what} {f['account']} level {f['level']}: {f['error']}")
        for c in send["cancelled"]:
            echo(f"  cancelled {c['account']} level {c['level']}: paid or disputed since planned")
    for d in summary["litigation"]:
        echo(f"  litigation: {d['debtor']} {d['total']} EUR ({d['procedure']}), dossier {d['id']}")
    if summary.get("not_ready"):
        echo(f"  dossiers held back, not ready for litigation: {summary['not_ready']} "
             "(recouvrement litigation not-ready)")
    echo(f"  debtors with nothing due: {plan['nothing_due']}")
