"""The `recouvrement` command. Exit codes: 0 done, 1 some sends failed, 2 bad input or usage."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import click

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from recouvrement.domain.calendar import today_in  # noqa: E402
from recouvrement.settings import load_settings  # noqa: E402


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DATE = IsoDate()
FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                      show_default=True)


def _session():
    from recouvrement.db import open_database

    return open_database(load_settings().database_url).session()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _emit(rows: list[dict], fmt: str, columns: list[str]) -> None:
    """JSON as it is, or a table of the given columns (lists joined by commas)."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _table([{k: ",".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows],
           columns)


def _table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Recouvrement: the daily, auditable debt-collection pipeline."""


@main.command()
@click.option("--as-of", type=DATE, help="the day to run as (default: today, creditor's time zone)")
@click.option("--debtor", help="run for this account only")
@click.option("--dry-run", is_flag=True, help="decide and report; send and record nothing")
def run(as_of: date | None, debtor: str | None, dry_run: bool) -> None:
    """Run the daily flow (through Prefect, without a server)."""
    from recouvrement.runner import print_summary, run_daily

    summary = run_daily(as_of=as_of, debtor=debtor, dry_run=dry_run, fail=_fail)
    print_summary(summary)
    sys.exit(1 if summary["send"]["failed"] else 0)


@main.command()
@click.option("--days", default=45, show_default=True, help="simulated business days to run")
@click.option("--debtors", "n_debtors", default=300, show_default=True)
@click.option("--start", type=DATE, help="first simulated day (default: 45 business days ago)")
def demo(days: int, n_debtors: int, start: date | None) -> None:
    """Make demo exports, start a local SMTP sink, run several simulated days."""
    from recouvrement.demo import run_demo

    run_demo(load_settings(), days=days, n_debtors=n_debtors, start=start)


@main.command("smtp-sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
@click.option("--maildir", type=click.Path(path_type=Path), help="store messages here")
def smtp_sink(host: str, port: int, maildir: Path | None) -> None:
    """A local SMTP server that stores what it receives."""
    from recouvrement.mail.sink import serve_forever

    maildir = maildir or load_settings().home / "maildir"
    click.echo(f"SMTP sink on {host}:{port}, messages in {maildir} (Ctrl-C to stop)")
    serve_forever(host, port, maildir)


@main.command()
@FORMAT
def debtors(fmt: str) -> None:
    """Debtors with their risk, open amount and ladder level."""
    from recouvrement.reports import debtor_rows

    with _session() as session:
        rows = debtor_rows(session)
    _emit(rows, fmt, ["account", "name", "risk_score", "risk_class", "open_amount", "level"])


@main.group()
def litigation() -> None:
    """The litigation queue."""


@litigation.command("list")
@FORMAT
def litigation_list(fmt: str) -> None:
    """Dossiers that exhausted the amicable steps."""
    from recouvrement.litigation import list_dossiers

    with _session() as session:
        rows = list_dossiers(session)
    _emit(rows, fmt, ["id", "debtor", "invoices", "principal", "interest", "fixed_fees", "total",
                      "procedure", "queued_on", "status"])


@main.group()
def dispute() -> None:
    """Pause or resume dunning for an invoice the debtor contests."""


@dispute.command("open")
@click.argument("invoice")
@click.option("--reason", required=True, help="what the debtor contests")
def dispute_open(invoice: str, reason: str) -> None:
    from recouvrement.reports import set_dispute

    with _session() as session:
        problem = set_dispute(session, invoice, reason=reason)
    if problem:
        _fail(problem)
    click.echo(f"{invoice}: disputed, dunning paused")


@dispute.command("close")
@click.argument("invoice")
def dispute_close(invoice: str) -> None:
    from recouvrement.reports import set_dispute

    with _session() as session:
        problem = set_dispute(session, invoice, reason=None)
    if problem:
        _fail(problem)
    click.echo(f"{invoice}: dispute closed, dunning resumes")


@main.command()
@click.argument("account")
@click.option("--until", type=DATE, required=True, help="the date the debtor promised to pay by")
@click.option("--as-of", type=DATE, help="the day the promise is made (default: today)")
def promise(account: str, until: date, as_of: date | None) -> None:
    """Pause a debtor until a promised date; unpaid then, the next level follows at once."""
    from recouvrement.reports import add_promise

    with _session() as session:
        problem = add_promise(session, account, until,
                              today=as_of or today_in(load_settings().timezone))
    if problem:
        _fail(problem)
    click.echo(f"{account}: promise to pay until {until}, dunning paused")


@main.command()
@click.argument("account")
@click.option("--instalments", type=click.IntRange(min=1), required=True)
@click.option("--first", type=DATE, required=True, help="date of the first instalment")
@click.option("--every-days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--grace-days", type=click.IntRange(min=0), default=5, show_default=True,
              help="days an instalment may be late before the plan is broken")
def plan(account: str, instalments: int, first: date, every_days: int, grace_days: int) -> None:
    """A payment plan over the debtor's open invoices; dunning pauses while it is honoured."""
    from recouvrement.reports import add_plan

    with _session() as session:
        problem, schedule = add_plan(session, account, instalments=instalments, first=first,
                                     every_days=every_days, grace_days=grace_days)
    if problem:
        _fail(problem)
    click.echo(f"{account}: payment plan of {len(schedule)} instalment(s), dunning paused")
    for number, instalment in enumerate(schedule, start=1):
        click.echo(f"  {number}. {instalment.due}  {instalment.amount:.2f}")


@main.command()
@click.argument("invoice")
@click.option("--on", "on", type=DATE, required=True, help="the date of the acknowledgement")
def acknowledge(invoice: str, on: date) -> None:
    """Record that the debtor acknowledged the debt: its limitation period restarts."""
    from recouvrement.reports import acknowledge as record_acknowledgement

    with _session() as session:
        problem = record_acknowledgement(session, invoice, on)
    if problem:
        _fail(problem)
    click.echo(f"{invoice}: acknowledged on {on}, limitation restarts")


@main.command()
@click.option("--as-of", type=DATE, help="the day (default: today)")
@FORMAT
def calls(as_of: date | None, fmt: str) -> None:
    """The day's phone calls for collectors: high-risk debtors at level 1, riskiest first."""
    from recouvrement.reports import call_list

    with _session() as session:
        rows = call_list(session, as_of or today_in(load_settings().timezone))
    _emit(rows, fmt, ["account", "name", "phone", "risk_score", "open_amount", "level", "invoices"])


@main.command()
@FORMAT
def declarations(fmt: str) -> None:
    """Debtors in collective proceedings: the claims to declare, and by when."""
    from recouvrement.reports import claims_to_declare

    with _session() as session:
        rows = claims_to_declare(session)
    _emit(rows, fmt, ["account", "name", "proceedings_since", "open_amount", "declare_by"])


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name every entry that was tampered with."""
    from recouvrement.audit import verify

    with _session() as session:
        problems = verify(session)
    if not problems:
        click.echo("audit log intact")
        return
    for p in problems:
        click.echo(f"entry {p.entry_id}: {p.problem}", err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--debtor", help="only this account")
@click.option("--limit", default=200, show_default=True)
def audit_show(debtor: str | None, limit: int) -> None:
    """Read the log, newest last."""
    from recouvrement.reports import audit_rows

    with _session() as session:
        rows = audit_rows(session, account=debtor, limit=limit)
    for r in rows:
        click.echo(f"{r['id']:>7}  {r['at']}  {r['actor']:<28}  {r['event']:<26}  "
                   f"{r['account'] or '-':<14}  {r['subject'] or ''}  {r['details']}")


if __name__ == "__main__":
    main()
