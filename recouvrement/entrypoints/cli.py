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
from recouvrement.domain.calls import OUTCOMES  # noqa: E402
from recouvrement.config.settings import load_agency_settings, load_settings  # noqa: E402


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
    from recouvrement.adapters.db import open_database

    return open_database(load_settings().database_url).session()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _not_after_today(day: date, what: str, why: str) -> None:
    """A command that changes things for good is never dated later than today."""
    today = today_in(load_agency_settings().timezone)
    if day > today:
        _fail(f"{what} {day.isoformat()} is later than today ({today.isoformat()}): {why}")


def _warn_case_twins(session, account: str) -> None:
    """Two debtors whose accounts differ only by case are two debtors: say so."""
    from recouvrement.queries.reports import _debtor, case_twins

    twins = case_twins(session, account)
    if twins and _debtor(session, account) is not None:
        click.echo(f"warning: {', '.join(twins)} differ(s) from {account} only by case: "
                   "another debtor, left as it is", err=True)


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


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: one line, exit 2, nothing changed."""
    from pydantic import ValidationError

    from recouvrement.services.agency.creditors import CreditorInvalid, UnknownCreditor
    from recouvrement.services.agency.payments import PaymentRefused
    from recouvrement.services.agency.remittances import RemittanceRefused
    from recouvrement.services.agency.trust import StatementError
    from recouvrement.services.agency.selection import CreditorRequired
    from recouvrement.adapters.audit_key import AuditKeyError
    from recouvrement.domain.policy import PolicyError
    from recouvrement.config.settings import SettingsError

    return (SettingsError, ValidationError, AuditKeyError, PolicyError, UnknownCreditor,
            CreditorInvalid, CreditorRequired, PaymentRefused, RemittanceRefused, StatementError)


def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):  # a setting of the environment or the toml file
        return "; ".join(f"setting {'.'.join(map(str, e['loc']))}: {e['msg']}"
                         for e in exc.errors())
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "ephemeral Prefect API server" in text:
        text += (" (the machine is busy: keep a server running with `recouvrement server "
                 "start`, or raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")
    return text


def _home() -> Path:
    try:
        return load_settings().home
    except Exception:  # the settings themselves are what failed
        return Path(os.environ.get("RECOUVREMENT_HOME", "./data"))


class _Main(click.Group):
    """Every command: a user's mistake is one line (exit 2); an unexpected error is one
    line too (exit 1), its traceback in $RECOUVREMENT_HOME/logs/recouvrement.log."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit,
                KeyboardInterrupt):
            raise
        except _user_errors() as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # `recouvrement debtors | head`: the reader has had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            from recouvrement.adapters.logfile import write_exception

            path = write_exception(_home(), ctx.invoked_subcommand or "", exc)
            click.echo(f"error: {type(exc).__name__}: {_one_line(exc)} (details in {path})",
                       err=True)
            sys.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--creditor", metavar="CODE",
              help="agency mode: the creditor whose ledger the command works on "
                   "(recouvrement creditor list); `run` without it runs every active creditor")
@click.pass_context
def main(ctx: click.Context, creditor: str | None) -> None:
    """Recouvrement: the daily, auditable debt-collection pipeline."""
    from recouvrement.services.agency.selection import using_creditor

    # Every command of this invocation reads its settings (home, ledger, inbox, identity)
    # through load_settings(): that creditor's. Without --creditor, a command that works
    # on one ledger is refused once creditors are registered.
    ctx.obj = {"creditor": creditor or None}
    ctx.with_resource(using_creditor(creditor, guard=True))


def _selected_creditor() -> str | None:
    return (click.get_current_context().find_root().obj or {}).get("creditor")


def _check_identity(settings, dry_run: bool) -> None:
    """A real run refuses (exit 2, nothing changed) when the letters would lack a mention the
    law needs of the creditor; a dry run says what a real one would refuse. What only helps
    the debtor (a phone number, the BIC) is a warning."""
    from recouvrement.entrypoints.demo import MARKER
    from recouvrement.config.settings import identity_refusal

    check = settings.identity_check()
    for line in check.warnings:
        click.echo(f"warning: {line}", err=True)
    if (settings.home / MARKER).exists():
        click.echo(f"warning: {settings.home} is the demo's home: its letters name the demo's "
                   f"creditor ({settings.home / 'recouvrement.toml'})", err=True)
    if check.complete:
        return
    if not dry_run:
        _fail(identity_refusal(check.missing))
    for line in check.missing:
        click.echo(f"warning: a real run would refuse: {line}", err=True)


@main.command()
@click.option("--as-of", type=DATE, help="the day to run as (default: today, creditor's time zone)")
@click.option("--debtor", help="run for this account only")
@click.option("--dry-run", is_flag=True, help="decide and report; send and record nothing")
def run(as_of: date | None, debtor: str | None, dry_run: bool) -> None:
    """Run the daily flow through Prefect: PREFECT_API_URL, else the local server, else a
    temporary one. Agency mode: the creditor of --creditor, or every active creditor."""
    from recouvrement.adapters.logfile import errors_to_log_file
    from recouvrement.entrypoints.runner import connect_or_exit, print_creditors, print_summary, run_daily

    agency = load_agency_settings()
    creditor = _selected_creditor()
    every = creditor is None and _active_creditors(agency)
    if every:
        if debtor:
            _fail(f"--debtor {debtor}: a rerun for one debtor names its creditor "
                  f"(recouvrement --creditor CODE run --debtor ...; creditors: {', '.join(every)})")
        _warn_identities(agency, every)
    else:
        settings = load_settings()
        _check_identity(settings, dry_run)
    if debtor:
        from recouvrement.queries.reports import _debtor, unknown_debtor

        with _session() as session:
            if _debtor(session, debtor) is None and "did you mean" in (
                    problem := unknown_debtor(session, debtor)):
                _fail(problem)
            _warn_case_twins(session, debtor)
    if as_of is not None and not dry_run:
        _not_after_today(as_of, "run --as-of", "a run sends and escalates for good; "
                         "`--dry-run` may look ahead")
    errors_to_log_file(agency.home if every else settings.home)  # tracebacks: there
    connect_or_exit(agency)  # the agency's Prefect server, whichever creditor runs
    summary = run_daily(as_of=as_of, debtor=debtor, dry_run=dry_run, fail=_fail,
                        creditor=creditor)
    if "creditors" in summary:
        sys.exit(print_creditors(summary))
    print_summary(summary)
    sys.exit(1 if summary["send"]["failed"] else 0)


def _active_creditors(agency) -> list[str]:
    from recouvrement.services.agency.selection import registered

    return [r.code for r in registered(agency, active_only=True)]


def _warn_identities(agency, codes: list[str]) -> None:
    """Before a run of every creditor: whose letters would lack a mention (its run refuses,
    the others go on)."""
    from recouvrement.services.agency.selection import using_creditor

    for code in codes:
        with using_creditor(code):
            check = load_settings().identity_check()
        for line in check.missing:
            click.echo(f"warning: creditor {code}: its run will refuse: {line}", err=True)


@main.command()
@click.option("--days", default=45, show_default=True, help="simulated business days to run")
@click.option("--debtors", "n_debtors", type=click.IntRange(min=2),
              help="debtors (default: 300; with --agency, 150 for each creditor)")
@click.option("--start", type=DATE, help="first simulated day (default: 45 business days ago)")
@click.option("--agency", is_flag=True,
              help="a collection agency with two creditors, each in its own ledger")
def demo(days: int, n_debtors: int | None, start: date | None, agency: bool) -> None:
    """Make demo exports, start a local SMTP sink, run several simulated days."""
    if agency:
        from recouvrement.entrypoints.demo_agency import run_agency_demo

        run_agency_demo(load_agency_settings(), days=days, n_debtors=n_debtors or 150,
                        start=start)
        return
    from recouvrement.entrypoints.demo import run_demo

    run_demo(load_agency_settings(), days=days, n_debtors=n_debtors or 300, start=start)


@main.group()
def server() -> None:
    """The local Prefect server (and its UI) of this RECOUVREMENT_HOME, kept between commands."""


@server.command("start")
def server_start() -> None:
    """Start it in the background (nothing to do if it is up); print its UI and API."""
    from recouvrement.adapters import orchestrator
    settings = load_agency_settings()
    try:
        local, started = orchestrator.start(settings.home,
                                            timeout=settings.prefect_startup_timeout_seconds,
                                            retries=settings.prefect_startup_retries)
    except orchestrator.Unreachable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Prefect server {'started' if started else 'already up'} (pid {local.pid}): "
               f"UI {local.url}  API {local.api_url}")
    click.echo(f"  its data and log: {orchestrator.prefect_home(settings.home)}; "
               "every recouvrement command of this home reports to it; "
               "stop it with: recouvrement server stop")


@server.command("status")
def server_status() -> None:
    """Whether it is up (its process alive and its API answering); exit 3 when it is not."""
    from recouvrement.adapters import orchestrator
    local, up = orchestrator.status(load_agency_settings().home)
    if up:
        click.echo(f"up (pid {local.pid}): UI {local.url}  API {local.api_url}")
        return
    if local is None:
        click.echo("not running (recouvrement server start)")
    else:
        click.echo(f"not answering: pid {local.pid}, port {local.port} recorded "
                   "(recouvrement server stop, then start)")
    sys.exit(3)


@server.command("stop")
def server_stop() -> None:
    """Stop it; later commands use a temporary server until it is started again."""
    from recouvrement.adapters import orchestrator
    local = orchestrator.stop(load_agency_settings().home)
    click.echo(f"stopped (pid {local.pid})" if local else "not running")


@main.command("smtp-sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
@click.option("--maildir", type=click.Path(path_type=Path), help="store messages here")
def smtp_sink(host: str, port: int, maildir: Path | None) -> None:
    """A local SMTP server that stores what it receives."""
    from recouvrement.adapters.mail.sink import serve_forever

    maildir = maildir or load_agency_settings().home / "maildir"
    click.echo(f"SMTP sink on {host}:{port}, messages in {maildir} (Ctrl-C to stop)")
    serve_forever(host, port, maildir)


@main.command()
@FORMAT
def debtors(fmt: str) -> None:
    """Debtors with their risk, open amount and ladder level."""
    from recouvrement.queries.reports import debtor_rows

    with _session() as session:
        rows = debtor_rows(session)
    _emit(_why(rows, fmt), fmt,
          ["account", "name", "risk_score", "risk_class", "open_amount", "level", "risk_factors"])


def _why(rows: list[dict], fmt: str) -> list[dict]:
    """The reasons of each score: a list in JSON, one cell (joined by ';') in a table."""
    if fmt == "json":
        return rows
    return [{**r, "risk_factors": "; ".join(r["risk_factors"])} for r in rows]


@main.group()
def risk() -> None:
    """The risk score: train it, backtest it."""


@risk.command("backtest")
@click.option("--cut", type=DATE, required=True,
              help="score with only what the ledger knew on this day, judge by what came after")
@click.option("--scenario", "n_debtors", type=click.IntRange(min=50),
              help="backtest a generated ledger of this many debtors of hidden behaviours "
                   "instead of the ledger, beside the best possible answer")
@click.option("--seed", type=int, default=11, show_default=True, help="the scenario's seed")
@click.option("--horizon-days", type=click.IntRange(min=31), default=120, show_default=True,
              help="how long after the cut outcomes are watched")
@click.option("--boosting", is_flag=True,
              help="also fit gradient boosting, to compare (slower)")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True)
def risk_backtest(cut: date, n_debtors: int | None, seed: int, horizon_days: int, boosting: bool,
                  fmt: str) -> None:
    """AUC, Brier score and calibration of the learned score against one-feature baselines."""
    from recouvrement.services.risk_backtest import as_markdown, backtest

    if n_debtors is not None:
        from recouvrement.entrypoints.risk_scenario import generate, true_probabilities

        scenario = generate(n_debtors, seed=seed)
        ledger = scenario.ledger
        truth = lambda open_: true_probabilities(scenario, open_, cut, 30)  # noqa: E731
    else:
        from recouvrement.adapters.risk_store import load_risk_ledger

        with _session() as session:
            ledger = load_risk_ledger(session, timezone_name=load_settings().timezone)
        truth = None
    try:
        result = backtest(ledger, cut, truth=truth, horizon_days=horizon_days, boosting=boosting)
    except ValueError as exc:
        _fail(str(exc))
    if n_debtors is not None:
        result["scenario"] = {"debtors": n_debtors, "seed": seed,
                              "behaviours": scenario.behaviour.value_counts().to_dict()}
    click.echo(json.dumps(result, indent=2) if fmt == "json" else as_markdown(result), nl=False)


@risk.command("train")
@click.option("--as-of", type=DATE, help="the day (default: today)")
def risk_train(as_of: date | None) -> None:
    """Learn the score from the ledger's history now (the daily run does it once a day)."""
    from recouvrement.adapters.risk_store import train_and_store

    settings = load_settings()
    with _session() as session:
        result = train_and_store(session, today=as_of or today_in(settings.timezone),
                                 min_examples=settings.risk_model_min_examples,
                                 timezone_name=settings.timezone)
    if result["status"] == "not_enough_history":
        _fail(f"{result['examples']} examples in the ledger's history, "
              f"{result['min_examples']} needed (setting risk_model_min_examples)")
    click.echo(json.dumps(result, indent=2, default=str))


@main.group()
def litigation() -> None:
    """The litigation queue."""


@litigation.command("list")
@FORMAT
@click.option("--status", type=click.Choice(["queued", "exported", "with_bailiff", "with_lawyer",
                                              "closed"]), help="only dossiers in this state")
def litigation_list(fmt: str, status: str | None) -> None:
    """Dossiers that exhausted the amicable steps."""
    from recouvrement.services.litigation import list_dossiers, list_not_ready

    with _session() as session:
        rows = list_dossiers(session, status=status)
        held = len(list_not_ready(session))
    _emit(rows, fmt, ["id", "debtor", "invoices", "principal", "interest", "fixed_fees", "total",
                      "procedure", "queued_on", "status"])
    if fmt == "table" and held:
        click.echo(f"{held} debtor(s) past the formal notice deadline are not ready: "
                   "recouvrement litigation not-ready")


@main.group()
def dispute() -> None:
    """Pause or resume dunning for an invoice the debtor contests."""


@dispute.command("open")
@click.argument("invoice")
@click.option("--reason", required=True, help="what the debtor contests")
def dispute_open(invoice: str, reason: str) -> None:
    from recouvrement.queries.reports import set_dispute

    with _session() as session:
        problem = set_dispute(session, invoice, reason=reason)
    if problem:
        _fail(problem)
    click.echo(f"{invoice}: disputed, dunning paused")


@dispute.command("close")
@click.argument("invoice")
def dispute_close(invoice: str) -> None:
    from recouvrement.queries.reports import set_dispute

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
    from recouvrement.queries.reports import add_promise

    with _session() as session:
        problem = add_promise(session, account, until,
                              today=as_of or today_in(load_settings().timezone))
        _warn_case_twins(session, account)
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
    from recouvrement.queries.reports import add_plan

    with _session() as session:
        problem, schedule = add_plan(session, account, instalments=instalments, first=first,
                                     every_days=every_days, grace_days=grace_days)
        _warn_case_twins(session, account)
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
    from recouvrement.queries.reports import acknowledge as record_acknowledgement

    with _session() as session:
        problem = record_acknowledgement(session, invoice, on,
                                         today=today_in(load_settings().timezone))
    if problem:
        _fail(problem)
    click.echo(f"{invoice}: acknowledged on {on}, limitation restarts")


@main.command()
@click.option("--as-of", type=DATE, help="the day (default: today)")
@FORMAT
def calls(as_of: date | None, fmt: str) -> None:
    """The collectors' worklist: phone tasks to work, riskiest and largest amount first.

    A task not worked on its day is carried (shown with its age) until a call is
    logged with `recouvrement call log`."""
    from recouvrement.services.calls import worklist

    settings = load_settings()
    with _session() as session:
        rows = worklist(session, as_of or today_in(settings.timezone),
                        agency=settings.agency_name, creditor=settings.creditor_name)
    if fmt == "json":
        _emit(rows, fmt, [])
        return
    _table([{**r, "last_contact": _contact(r["last_contact"]),
             "invoices": ",".join(r["invoices"])} for r in rows],
           ["account", "name", "phone", "risk_score", "open_amount", "overdue_amount",
            "open_invoices", "level", "status", "age_days", "last_contact"])
    for r in rows:
        if r.get("script"):  # an agency's call opens with what R124-4 asks of every contact
            click.echo(f"{r['account']} script: {r['script']}")
        if r["history"]:
            click.echo(f"{r['account']}: " + "; ".join(r["history"]))


def _contact(contact: dict | None) -> str:
    if contact is None:
        return "-"
    return f"{contact['on']} {contact['channel'].replace(',', '+')} level {contact['level']}"


@main.group()
def call() -> None:
    """Phone calls to debtors, as a collector logs them."""


@call.command("log")
@click.argument("account")
@click.option("--outcome", required=True,
              type=click.Choice(list(OUTCOMES)))
@click.option("--until", type=DATE, help="promise: the date the debtor promised to pay by")
@click.option("--invoice", "invoices", multiple=True, metavar="NUMBER",
              help="dispute: the invoice contested (repeat it for several; default: every "
                   "overdue invoice of the debtor)")
@click.option("--note", help="a word on the call")
@click.option("--as-of", type=DATE, help="the day of the call (default: today)")
def call_log(account: str, outcome: str, until: date | None, invoices: tuple[str, ...],
             note: str | None, as_of: date | None) -> None:
    """Log a call: the debtor's phone tasks are done; a promise pauses dunning until its
    date, a dispute stops it for the invoices contested."""
    from recouvrement.services.calls import CallError, log_call

    today = today_in(load_settings().timezone)
    if as_of is not None:
        _not_after_today(as_of, "the day of the call", "a call is logged once it is made")
    try:
        with _session() as session:
            logged = log_call(session, account, outcome, today=as_of or today, until=until,
                              invoices=invoices, note=note)
            _warn_case_twins(session, account)
    except CallError as exc:
        _fail(str(exc))
    if not logged["had_task"]:
        click.echo(f"{account}: no phone task was open; the call is recorded all the same")
    effect = {"promise": f", promise to pay until {logged['until']}: dunning paused",
              "dispute": f", disputed: {', '.join(logged['invoices'])}, dunning paused for "
                         "them"}.get(outcome, "")
    click.echo(f"{account}: call logged ({outcome}){effect}")


@main.command()
@FORMAT
def declarations(fmt: str) -> None:
    """Debtors in collective proceedings: the claims to declare, and by when."""
    from recouvrement.queries.reports import claims_to_declare

    with _session() as session:
        rows = claims_to_declare(session)
    _emit(rows, fmt, ["account", "name", "proceedings_since", "open_amount", "declare_by"])


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--head", "expected_head", metavar="HASH",
              help="a head hash noted earlier: fail if it is no longer in the log")
def audit_verify(expected_head: str | None) -> None:
    """Check the hash chain; name every entry edited, deleted, reordered or inserted."""
    from recouvrement.adapters.audit import check_chain

    with _session() as session:
        report = check_chain(session, expected_head=expected_head)
    if report.intact:
        redacted = f", {report.redacted} erased by retention purges" if report.redacted else ""
        click.echo(f"audit log intact: {report.entries} entries{redacted}")
        if report.head_hash:
            click.echo(f"head: entry #{report.head_id} {report.head_hash}")
        if report.checkpoint:
            c = report.checkpoint
            click.echo(f"signed checkpoint: entry #{c['entry_id']} at {c['at']} "
                       f"(key {c['key_id']}), matches")
        return
    for p in report.problems:
        where = f"entry {p.entry_id}" if p.entry_id is not None else "log"
        click.echo(f"{where}: {p.kind}: {p.problem}", err=True)
    click.echo(f"audit log NOT intact: {len(report.problems)} problem(s) in "
               f"{report.entries} entries", err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--debtor", help="only this account")
@click.option("--dossier", help="only entries about this dossier id")
@click.option("--limit", default=200, show_default=True, help="the newest N entries (0: all)")
@FORMAT
def audit_show(debtor: str | None, dossier: str | None, limit: int, fmt: str) -> None:
    """Read the log, newest last: when, who acted, what (its label, then its code), about whom."""
    from recouvrement.adapters.audit import read_log

    with _session() as session:
        rows = read_log(session, account=debtor, subject=dossier, limit=limit or None)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        details = "[erased by retention purge]" if r["redacted"] else json.dumps(
            r["details"], ensure_ascii=False)
        # The label of the catalogue first, then the code the log stores (and scripts grep).
        what = f"{r['label']} [{r['event']}]" if r["label"] != r["event"] else r["event"]
        click.echo(f"{r['id']:>7}  {r['at']}  {r['actor']:<28}  {what:<60}  "
                   f"{r['account'] or '-':<14}  {r['subject'] or ''}  {details}")


# --- the litigation queue's life, the dossier, GDPR retention ---------------------------


def _dossier_command(action) -> None:
    """Run `action(session, actor, today)`; a missing dossier or a refused change exits 2."""
    from recouvrement.adapters.audit import current_actor
    from recouvrement.services.dossier import ExportRefused
    from recouvrement.domain.dossier import TransitionError
    from recouvrement.services.lifecycle import DossierNotFound

    problem = None
    try:
        with _session() as session:
            action(session, current_actor(), today_in(load_settings().timezone))
    except (DossierNotFound, TransitionError, ExportRefused) as exc:
        problem = str(exc)
    if problem:
        _fail(problem)


@litigation.command("not-ready")
@FORMAT
def litigation_not_ready(fmt: str) -> None:
    """Debtors past the formal notice deadline whose dossier is held back, and why."""
    from recouvrement.services.litigation import list_not_ready

    with _session() as session:
        rows = list_not_ready(session)
    if fmt == "json":
        _emit(rows, fmt, [])
        return
    _table([{**r, "invoices": ",".join(r["invoices"]), "reasons": " | ".join(r["reasons"])}
            for r in rows], ["debtor", "since", "invoices", "reasons"])


AS_OF = click.option("--as-of", type=DATE,
                     help="state the claim on this day (default: today; not before queued_on)")


@litigation.command("show")
@click.argument("dossier_id")
@AS_OF
@FORMAT
def litigation_show(dossier_id: str, as_of: date | None, fmt: str) -> None:
    """One dossier: where it stands, what happened since it was queued, the claim today."""
    from recouvrement.context import run_context
    from recouvrement.services.lifecycle import find_dossier
    from recouvrement.services.dossier import dossier_detail

    found = {}

    def show(session, _actor, today):
        found.update(dossier_detail(session, find_dossier(session, dossier_id),
                                    as_of=as_of or today, policy=run_context().policy))

    _dossier_command(show)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for key in ("id", "debtor", "status", "outcome", "procedure", "queued_on", "exported_on",
                "handler", "handler_reference", "closed_on", "principal", "interest",
                "fixed_fees", "total", "balance"):
        if found.get(key) is not None:
            click.echo(f"{key:<18} {found[key]}")
    click.echo(f"{'invoices':<18} {', '.join(found['invoices'])}")
    for p in found["payments"]:
        click.echo(f"{'payment':<18} {p['received_on']}  {p['invoice']}  {p['amount']}")
    now = found["as_of"]
    click.echo(f"{'on ' + now['as_of']:<18} principal {now['principal']}  interest "
               f"{now['interest']}  fixed_fees {now['fixed_fees']}  total {now['total']}")
    for e in found["since_queued"]:
        click.echo(f"{'since queued':<18} {e['on']}  {e['label']} [{e['event']}]"
                   f"{'  ' + e['invoice'] if e['invoice'] else ''}"
                   f"{''.join(f'  {k}={v}' for k, v in e['details'].items())}")
    for w in found["warnings"]:
        click.echo(f"WARNING: {_warning_text(w)}", err=True)


def _warning_text(warning: dict) -> str:
    since = f" since {warning['since']}" if warning.get("since") else ""
    reason = f" ({warning['reason']})" if warning.get("reason") else ""
    return (f"invoice {warning['invoice']} is disputed{since}{reason}: the claim is contested; "
            "close the dispute or take the invoice out before filing")


@litigation.command("export")
@click.argument("dossier_id")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder to write the dossier into")
@click.option("--zip", "as_zip", is_flag=True, help="one zip file instead of a folder")
@AS_OF
def litigation_export(dossier_id: str, out: Path, as_zip: bool, as_of: date | None) -> None:
    """Write the dossier: statement of claim to the day, letters, invoices, audit trail."""
    from recouvrement.context import run_context
    from recouvrement.services.dossier import export_dossier
    from recouvrement.adapters.pdf import default_renderer

    ctx = run_context()
    written, warnings = [], []

    def export(session, actor, today):
        written.append(export_dossier(
            session, dossier_id, out, today=today, actor=actor, creditor=ctx.settings.creditor,
            creditor_is_trader=ctx.settings.creditor_is_trader,
            renderer=default_renderer(ctx.template_dirs),
            as_zip=as_zip, templates=[ctx.settings.templates] if ctx.settings.templates else None,
            as_of=as_of, policy=ctx.policy, warnings=warnings))

    _dossier_command(export)
    path, missing = written[0]
    click.echo(f"dossier written to {path}")
    for item in missing:
        click.echo(f"  to complete before filing: {item}")
    for warning in warnings:
        click.echo(f"WARNING: {_warning_text(warning)}", err=True)


@litigation.command("handover")
@click.argument("dossier_id")
@click.option("--to", "to", type=click.Choice(["bailiff", "lawyer"]), required=True,
              help="a commissaire de justice (bailiff) or a lawyer")
@click.option("--name", required=True, help="who takes the dossier")
@click.option("--reference", help="their reference for it")
def litigation_handover(dossier_id: str, to: str, name: str, reference: str | None) -> None:
    """Hand an exported dossier to a bailiff or a lawyer."""
    from recouvrement.services.lifecycle import find_dossier, hand_over

    def handover(session, actor, today):
        hand_over(session, find_dossier(session, dossier_id), to=to, name=name,
                  reference=reference, today=today, actor=actor)

    _dossier_command(handover)
    click.echo(f"{dossier_id}: with the {to}, {name}")


@litigation.command("close")
@click.argument("dossier_id")
@click.option("--outcome", type=click.Choice(["paid", "settled", "judgment", "abandoned"]),
              required=True)
@click.option("--note", help="a word on how it ended")
def litigation_close(dossier_id: str, outcome: str, note: str | None) -> None:
    """Close a dossier: paid, settled, judgment or abandoned."""
    from recouvrement.services.lifecycle import close_dossier, find_dossier

    def close(session, actor, today):
        close_dossier(session, find_dossier(session, dossier_id), outcome=outcome, note=note,
                      today=today, actor=actor)

    _dossier_command(close)
    click.echo(f"{dossier_id}: closed ({outcome})")


@main.group()
def retention() -> None:
    """GDPR retention of debtors' personal data (CNIL référentiel 2021-130)."""


@retention.command("purge")
@click.option("--as-of", type=DATE, help="the day to purge as (default: today)")
@click.option("--active-years", type=click.IntRange(min=1), default=3, show_default=True,
              help="years after the last contact before a closed debtor is archived")
@click.option("--dry-run", is_flag=True, help="report what would be archived or erased; change "
                                              "nothing")
def retention_purge(as_of: date | None, active_years: int, dry_run: bool) -> None:
    """Archive closed debtors' data after the active period; erase it after the limitation
    period, audit entries included (the hash chain still verifies)."""
    from recouvrement.adapters.audit import current_actor
    from recouvrement.adapters.db import open_database
    from recouvrement.services.retention import purge
    from recouvrement.services.retention_files import erase_copies

    if as_of is not None and not dry_run:
        _not_after_today(as_of, "retention purge --as-of", "an erasure cannot be undone; "
                         "`--dry-run` may look ahead")
    db = open_database(load_settings().database_url)
    today = as_of or today_in(load_settings().timezone)
    with (db.rolled_back_session() if dry_run else db.session()) as session:
        report = purge(session, today=today, actor=current_actor(), active_years=active_years)
    files = None if dry_run else erase_copies(report, load_settings().home)
    head = "Dry run (nothing changed)" if dry_run else "Retention purge"
    click.echo(f"{head} of {today}: {len(report.archived)} debtor(s) archived, "
               f"{len(report.purged)} erased, {len(report.reactivated)} back from the archive; "
               f"{report.entries_erased} audit entries erased")
    for a in report.archived:
        click.echo(f"  archived {a['account']} (last contact {a['last_contact']}, erased after "
                   f"{a['purge_after']})")
    for p in report.purged:
        click.echo(f"  erased, now {p['pseudonym']} ({p['entries_erased']} audit entries)")
    if files is not None and report.purged:
        click.echo(f"  copies erased: {files.letters} letter(s), {files.manifest_rows} print "
                   f"queue manifest row(s), {files.dossiers} exported dossier(s), "
                   f"{files.reports} validation report(s) scrubbed")
        for out in files.elsewhere:
            click.echo(f"  exported outside {load_settings().home}, erase it where it went: {out}")
    if report.entries_kept:
        click.echo(f"  {report.entries_kept} audit entries written before migration 0003 cannot "
                   "be erased without breaking the chain: they were kept")



# --- accounting exports: ingest by hand, mapping profiles, quarantine ---

@main.command("ingest")
@click.option("--as-of", type=DATE, help="the day the exports are read on (default: today)")
@click.option("--profile", help="mapping profile for every new file (default: chosen from the header row)")
@click.option("--sheet", help="Excel sheet to read (default: the first with the right columns)")
@click.option("--list-profiles", is_flag=True, help="list the mapping profiles and stop")
@click.option("--export-date", type=DATE, metavar="DAY",
              help="the day a new FEC was exported, when neither its name nor its entries tell it")
@click.option("--confirm", "confirm", multiple=True, metavar="FILE",
              help="take this held-back file (its name as listed) as it is; may be repeated")
def ingest(as_of: date | None, profile: str | None, sheet: str | None,
           list_profiles: bool, export_date: date | None, confirm: tuple[str, ...]) -> None:
    """Read the inbox's new exports now, without running the daily flow.

    A file held back (its control total does not reconcile, too many rows in
    quarantine, or too much settled by its absence) changes nothing and exits 2.
    """
    from recouvrement.ingest.errors import InputFileError
    from recouvrement.ingest.load import NothingToConfirm
    from recouvrement.ingest.manual import describe, held_message, ingest_now, profile_rows

    settings = load_settings()
    if list_profiles:
        _emit(profile_rows(settings.home), "table", ["name", "exports", "label", "file"])
        return
    try:
        report = ingest_now(settings, as_of or today_in(settings.timezone), profile=profile,
                            sheet=sheet, export_date=export_date, confirm=confirm)
    except InputFileError as exc:
        _fail(f"{exc} (nothing was changed)")
    except NothingToConfirm as exc:
        _fail(f"{exc} (nothing was changed)")
    for line in describe(report):
        click.echo(line)
    if report.held:
        _fail(held_message(report.held))


@main.group()
def quarantine() -> None:
    """Rows that validation held back, with their file, line, content and reasons."""


@quarantine.command("list")
@click.option("--all", "everything", is_flag=True, help="also the rows released or superseded")
@click.option("--file", "file_name", help="only the rows of this file")
@FORMAT
def quarantine_list(everything: bool, file_name: str | None, fmt: str) -> None:
    """The rows still in quarantine (or all of them)."""
    from recouvrement.ingest.quarantine import list_rows

    with _session() as session:
        rows = list_rows(session, status=None if everything else "open", file=file_name,
                         raw=fmt == "json")
    _emit(rows, fmt, ["id", "file", "line", "key", "status", "reasons"])


@quarantine.command("show")
@click.argument("row_id", type=int)
@FORMAT
def quarantine_show(row_id: int, fmt: str) -> None:
    """One quarantined row: where it comes from, why, and its content."""
    from recouvrement.ingest.quarantine import get_row

    with _session() as session:
        row = get_row(session, row_id)
    if row is None:
        _fail(f"no quarantined row {row_id} (see: recouvrement quarantine list --all)")
    if fmt == "json":
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    click.echo(f"row {row['id']}: {row['file']} line {row['line']} ({row['status']})")
    for reason in row["reasons"]:
        click.echo(f"  - {reason}")
    for column, value in row["raw"].items():
        click.echo(f"  {column}: {value}")


@quarantine.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the file to write")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--all", "everything", is_flag=True, help="also the rows released or superseded")
@click.option("--file", "file_name", help="only the rows of this file")
def quarantine_export(out: Path, fmt: str, everything: bool, file_name: str | None) -> None:
    """Write the quarantined rows to a file (CSV cells that look like formulas are quoted)."""
    from recouvrement.ingest.quarantine import export_rows, list_rows

    with _session() as session:
        rows = list_rows(session, status=None if everything else "open", file=file_name, raw=True)
    click.echo(f"{export_rows(rows, out, fmt)} row(s) written to {out}")


@main.command()
@click.option("--as-of", type=DATE, help="the report's day (default: today)")
@click.option("--from", "start", type=DATE,
              help="first day of the trends (default: 13 weeks before --as-of)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.html or FILE.pdf (default: reports/dashboard/ of the home)")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html",
              show_default=True, help="json: the figures on standard output")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="default: report_language (fr)")
def report(as_of: date | None, start: date | None, out: Path | None, fmt: str,
           lang: str | None) -> None:
    """The credit manager's report: aged balance, DSO, CEI, what each step recovers."""
    settings = load_settings()
    today = today_in(settings.timezone)
    as_of = as_of or today
    if as_of > today:
        _fail(f"--as-of {as_of} is later than today ({today}): the ledger cannot know it yet")
    from recouvrement.context import run_context
    from recouvrement.queries.dashboard import compute_report, default_start, report_path, render_json
    from recouvrement.queries.dashboard import write_report

    start = start or default_start(as_of)
    if start > as_of:
        _fail(f"--from {start} is after --as-of {as_of}")
    if out is not None and fmt == "html" and out.suffix.lower() not in (".html", ".htm", ".pdf"):
        _fail(f"--out {out}: give a .html or a .pdf file (or --format json)")
    ctx = run_context()
    with ctx.db.session() as session:
        figures = compute_report(session, ctx.policy, as_of=as_of, start=start)
    if fmt == "json":
        text = render_json(figures)
        if out is None:
            click.echo(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
            click.echo(f"Figures written to {out}")
        return
    out = out or report_path(settings.home, as_of)
    write_report(figures, out, lang or settings.report_language)
    click.echo(f"Report of {as_of} (from {start}) written to {out}")


@main.group()
def outbox() -> None:
    """The reminders that did not go out: failed (tried again by the next runs) or needing
    attention (refused for good, or tried too often: a person fixes and retries)."""


@outbox.command("list")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["failed", "needs_attention", "given_up"]),
              help="only these (default: both; given_up is the old name of needs_attention)")
@FORMAT
def outbox_list(statuses: tuple[str, ...], fmt: str) -> None:
    """Failed reminders and those that need attention, with each channel's last error."""
    from recouvrement.services.outbox import WAITING, waiting_rows

    with _session() as session:
        rows = waiting_rows(session, statuses or WAITING)
    _emit(rows, fmt, ["key", "account", "level", "status", "channels", "attempts", "planned_on",
                      "error"])


@outbox.command("retry")
@click.argument("key")
def outbox_retry(key: str) -> None:
    """Put a failed reminder, or one that needs attention, back in the outbox: the next run
    sends what did not go out."""
    from recouvrement.adapters.audit import current_actor
    from recouvrement.services.outbox import OutboxError, retry

    try:
        with _session() as session:
            done = retry(session, key, actor=current_actor())
    except OutboxError as exc:
        _fail(str(exc))
    click.echo(f"reminder {done['key']} for {done['account']} (level {done['level']}, "
               f"{done['was']}) is back in the outbox: the next run sends it")


# --- agency mode: the creditors (mandants) the agency collects for ----------------------------


def _agency_session():
    """A unit of work on the agency's own database (the register of creditors)."""
    from recouvrement.services.agency.selection import agency_database

    return agency_database(load_agency_settings()).session()


def _creditor_row(record) -> dict:
    m = record.mandate
    return {"code": record.code, "name": record.name, "legal_form": record.legal_form,
            "siren": record.siren, "address": record.address, "phone": record.phone,
            "iban": record.iban, "bic": record.bic, "sender": record.sender,
            "report_recipients": list(record.report_recipients),
            "report_every": record.report_every,
            "policy": None if record.policy is None else str(record.policy),
            "templates": None if record.templates is None else str(record.templates),
            "inbox": None if record.inbox is None else str(record.inbox),
            "database_url": record.database_url, "active": record.active,
            "mandate": {"reference": m.reference, "signed_on": m.signed_on.isoformat(),
                        "scope": m.scope, "fee_percent": f"{m.fee_percent:.2f}",
                        "fee_minimum": None if m.fee_minimum is None else f"{m.fee_minimum:.2f}",
                        "remit_within_days": m.remit_within_days}}


@main.group()
def creditor() -> None:
    """The creditors (mandants) the agency collects for, each with its own ledger."""


@creditor.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def creditor_import(file: Path) -> None:
    """Register or update the creditors of a TOML or YAML file (all of them, or none)."""
    from recouvrement.services.agency.creditors import get_creditor, save_creditor
    from recouvrement.services.agency.register_file import CreditorFileError, read_register
    from recouvrement.adapters.audit import current_actor

    try:
        records = read_register(file)
    except CreditorFileError as exc:
        _fail(str(exc))
    actor = current_actor()
    with _agency_session() as session:
        from recouvrement.adapters.db.models import CreditorRow

        before = {r.code: session.get(CreditorRow, r.code) is not None for r in records}
        for record in records:
            save_creditor(session, record, actor=actor)
        saved = [get_creditor(session, r.code) for r in records]
    for record in saved:
        click.echo(f"{'updated' if before[record.code] else 'registered'} {record.code}: "
                   f"{record.name} (mandate {record.mandate.reference} of "
                   f"{record.mandate.signed_on.isoformat()})")


@creditor.command("list")
@FORMAT
def creditor_list(fmt: str) -> None:
    """The registered creditors and their mandates."""
    from recouvrement.services.agency.creditors import list_creditors

    with _agency_session() as session:
        records = list_creditors(session)
    rows = [_creditor_row(r) for r in records]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _table([{"code": r["code"], "name": r["name"], "siren": r["siren"] or "",
             "mandate": r["mandate"]["reference"], "signed_on": r["mandate"]["signed_on"],
             "fee_percent": r["mandate"]["fee_percent"],
             "active": "yes" if r["active"] else "no"} for r in rows],
           ["code", "name", "siren", "mandate", "signed_on", "fee_percent", "active"])


@creditor.command("show")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def creditor_show(code: str, fmt: str) -> None:
    """One creditor: identity, mandate, and where its ledger and files are."""
    from recouvrement.services.agency.creditors import UnknownCreditor, creditor_settings, get_creditor

    try:
        with _agency_session() as session:
            record = get_creditor(session, code)
    except UnknownCreditor as exc:
        _fail(str(exc))
    settings = creditor_settings(load_agency_settings(), record)
    row = _creditor_row(record)
    row["ledger"] = {"home": str(settings.home),
                     "database_url": _hide_password(settings.database_url),
                     "inbox": str(settings.inbox)}
    if fmt == "json":
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    m = row.pop("mandate")
    ledger = row.pop("ledger")
    lines = [*row.items(), *((f"mandate.{k}", v) for k, v in m.items()),
             *((f"ledger.{k}", v) for k, v in ledger.items())]
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif key == "address" and value:
            value = " / ".join(line.strip() for line in value.splitlines() if line.strip())
        click.echo(f"{key:{width}}  {'' if value is None else value}")


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- SMS: opt-out (STOP), opt-in, and a local provider for trying it out -------------------


@main.group()
def sms() -> None:
    """SMS reminders: a debtor who answered STOP, and a local provider to see the texts."""


@sms.command("opt-out")
@click.argument("account")
@click.option("--source", default=None, help="how the STOP came (e.g. 'reply of 2026-12-01')")
def sms_opt_out(account: str, source: str | None) -> None:
    """The debtor answered STOP: never texted again until `sms opt-in` (audited)."""
    from recouvrement.adapters.audit import current_actor
    from recouvrement.adapters.channels.sms_consent import ConsentError, opt_out

    try:
        with _session() as session:
            done = opt_out(session, account, actor=current_actor(), source=source)
    except ConsentError as exc:
        _fail(str(exc))
    click.echo(f"{account} opted out of SMS" + ("" if done["changed"] else " (already)"))


@sms.command("opt-in")
@click.argument("account")
@click.option("--source", default=None, help="how the debtor asked for SMS again")
def sms_opt_in(account: str, source: str | None) -> None:
    """The debtor asks for SMS again (audited)."""
    from recouvrement.adapters.audit import current_actor
    from recouvrement.adapters.channels.sms_consent import ConsentError, opt_in

    try:
        with _session() as session:
            done = opt_in(session, account, actor=current_actor(), source=source)
    except ConsentError as exc:
        _fail(str(exc))
    click.echo(f"{account} may be texted again" + ("" if done["changed"] else " (already)"))


@sms.command("sink")
@click.option("--port", default=8026, show_default=True, type=int)
@click.option("--folder", type=click.Path(path_type=Path), default=None,
              help="where each SMS is written (default: $RECOUVREMENT_HOME/sms)")
def sms_sink(port: int, folder: Path | None) -> None:
    """A local SMS provider speaking Brevo's API: point RECOUVREMENT_SMS_URL at it."""
    import time

    from recouvrement.adapters.channels.sms_sink import SmsSink

    folder = folder or load_settings().home / "sms"
    with SmsSink(folder, port=port) as sink:
        click.echo(f"SMS sink on {sink.url}, writing to {folder} (Ctrl-C to stop); set "
                   f"RECOUVREMENT_SMS_PROVIDER=brevo RECOUVREMENT_SMS_URL={sink.url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()


# --- agency mode: the money the agency holds for its creditors (CPCE R124-2 to R124-6) -------


def _money(required: bool = True):
    """The money context of the creditor named by `recouvrement --creditor CODE`."""
    from recouvrement.services.agency.money import money_context

    code = _selected_creditor()
    if not code:
        if required:
            _fail("name the creditor: recouvrement --creditor CODE "
                  f"{click.get_current_context().command_path.split(' ', 1)[1]} ... "
                  "(recouvrement creditor list)")
        return None
    return money_context(load_agency_settings(), code)


def _money_errors():
    from recouvrement.services.agency.payments import PaymentRefused
    from recouvrement.services.agency.remittances import RemittanceRefused
    from recouvrement.services.agency.trust import StatementError

    return PaymentRefused, RemittanceRefused, StatementError


@main.group()
def payment() -> None:
    """Payments the agency received for a creditor, and their receipts (R124-6)."""


@payment.command("record")
@click.argument("account")
@click.option("--amount", required=True, help="the amount received, e.g. 500.00 or 500,00")
@click.option("--on", "on", type=DATE, required=True, help="the day the funds were received")
@click.option("--invoice", "invoices", multiple=True, metavar="NUMBER",
              help="an invoice the debtor says it pays (repeat; default: the oldest due first)")
@click.option("--method", type=click.Choice(["transfer", "cheque", "card", "cash",
                                             "direct-debit"]), default="transfer",
              show_default=True)
@click.option("--reference", help="the bank reference (a transfer's, a cheque's number): "
                                  "the same one twice is refused")
@click.option("--no-mail", is_flag=True, help="write the receipt, do not e-mail it")
def payment_record(account: str, amount: str, on: date, invoices: tuple[str, ...], method: str,
                   reference: str | None, no_mail: bool) -> None:
    """Record a payment received for the creditor: the receipt (PDF) is written and
    e-mailed to the debtor when the ledger has its address; reminders stop chasing it."""
    from decimal import Decimal, InvalidOperation

    from recouvrement.services.agency.payments import PaymentInput, mail_receipt, record_payment
    from recouvrement.adapters.audit import current_actor
    from recouvrement.adapters.pdf import default_renderer

    try:
        value = Decimal(amount.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        _fail(f"--amount {amount!r} is not an amount (e.g. 500.00)")
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        _fail(f"--amount {amount!r}: a positive amount in euros and cents")
    ctx = _money()
    today = today_in(ctx.settings.timezone)
    actor = current_actor()
    try:
        done = record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                              PaymentInput(account, value, on, method, reference, invoices),
                              actor=actor, today=today, renderer=default_renderer())
    except _money_errors() as exc:
        _fail(str(exc))
    click.echo(f"receipt {done['receipt']}: {done['amount']} from {account} on "
               f"{done['received_on']} for {ctx.record.code} ({done['receipt_file']})")
    for line in done["lines"]:
        click.echo(f"  {line['invoice']}: {line['amount']} paid, {line['remaining']} remains")
    if done["unallocated"] != "0.00":
        click.echo(f"  {done['unallocated']} beyond what the invoices owed: to refund or impute")
    click.echo(f"  remaining due on the invoices: {done['remaining']}")
    if no_mail:
        click.echo("  receipt not e-mailed (--no-mail): hand or post it to the debtor")
        return
    from recouvrement.adapters.mail.mailer import SendError

    try:
        how = mail_receipt(ctx.agency_db, ctx.agency, ctx.record, done["receipt"],
                           done["email"], ctx.mailer, actor=actor)
    except SendError as exc:
        click.echo(f"  receipt not e-mailed ({exc}): the daily run sends it")
        sys.exit(1)
    click.echo({"sent": f"  receipt e-mailed to {done['email']}",
                "already sent": "  receipt already e-mailed",
                "being sent": "  receipt being e-mailed by another run",
                "no address": "  no e-mail address in the ledger: post or hand the receipt "
                              "to the debtor"}[how])


@payment.command("list")
@FORMAT
def payment_list(fmt: str) -> None:
    """The payments received (for the --creditor, or every creditor)."""
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.services.agency.payments import list_payments

    code = _selected_creditor()
    with agency_database(load_agency_settings()).session() as session:
        rows = list_payments(session, code)
    for row in rows:
        row["remitted"] = "yes" if row.pop("remittance") else "no"
        row.pop("lines")
    _emit(rows, fmt, ["receipt", "creditor", "account", "received_on", "amount", "method",
                      "invoices", "remaining", "remitted"])


@main.group()
def remittance() -> None:
    """What the agency pays back to a creditor, less its fee (R124-6, R124-3)."""


def _period(period: str | None, start: date | None, end: date | None) -> tuple[date, date]:
    import calendar
    import re

    if period:
        if start or end:
            _fail("--period, or --from and --to, not both")
        found = re.fullmatch(r"(\d{4})-(\d{2})", period.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            _fail(f"--period {period!r} is not a month (YYYY-MM)")
        year, month = int(found.group(1)), int(found.group(2))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if not (start and end):
        _fail("give --period YYYY-MM, or --from and --to")
    return start, end


@remittance.command("make")
@click.option("--period", metavar="YYYY-MM", help="the month of the payments to remit")
@click.option("--from", "start", type=DATE, help="first day of the payments to remit")
@click.option("--to", "end", type=DATE, help="last day of the payments to remit")
def remittance_make(period: str | None, start: date | None, end: date | None) -> None:
    """Make the remittance statement (PDF and CSV) of the payments received in the period
    and not remitted yet: collected, the agency's fee, the net, the date it is due."""
    from recouvrement.services.agency.remittances import make_remittance
    from recouvrement.adapters.audit import current_actor
    from recouvrement.adapters.pdf import default_renderer

    period_from, period_to = _period(period, start, end)
    ctx = _money()
    try:
        made = make_remittance(ctx.agency_db, ctx.record, ctx.agency, period_from=period_from,
                               period_to=period_to, today=today_in(ctx.settings.timezone),
                               actor=current_actor(), renderer=default_renderer())
    except _money_errors() as exc:
        _fail(str(exc))
    click.echo(f"remittance {made['number']} for {made['creditor']}: collected "
               f"{made['collected']}, fee {made['fee']}, net to pay {made['net']} by "
               f"{made['due_on']}")
    click.echo(f"  statement: {made['statement']}\n  table:     {made['csv']}")


@remittance.command("list")
@FORMAT
def remittance_list(fmt: str) -> None:
    """The remittances (of the --creditor, or all); an overdue one is a warning."""
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.services.agency.remittances import list_remittances

    settings = load_agency_settings()
    code = _selected_creditor()
    with agency_database(settings).session() as session:
        rows = list_remittances(session, today_in(settings.timezone), code)
    for row in rows:
        if row["overdue"]:
            click.echo(f"warning: remittance {row['number']} to {row['creditor']} "
                       f"({row['net']}) was due by {row['due_on']} and is not paid (R124-6)",
                       err=True)
    _emit(rows, fmt, ["number", "creditor", "period_from", "period_to", "collected", "fee",
                      "net", "due_on", "status", "paid_on"])


@remittance.command("paid")
@click.argument("number", metavar="NUMBER")
@click.option("--on", "on", type=DATE, required=True, help="the day of the transfer")
@click.option("--reference", required=True, help="the transfer's reference")
def remittance_paid(number: str, on: date, reference: str) -> None:
    """Record that the remittance (its number, R2026-0001) was paid to the creditor."""
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.services.agency.remittances import mark_paid
    from recouvrement.adapters.audit import current_actor

    settings = load_agency_settings()
    code = _selected_creditor()
    try:
        paid = mark_paid(agency_database(settings), number, paid_on=on, reference=reference,
                         today=today_in(settings.timezone), actor=current_actor(), creditor=code)
    except _money_errors() as exc:
        _fail(str(exc))
    late = " (late: it was due by " + paid["due_on"] + ")" if paid["late"] else ""
    click.echo(f"remittance {paid['number']} paid to {paid['creditor']} on {paid['paid_on']}: "
               f"{paid['net']}{late}")


@main.group()
def trust() -> None:
    """The agency's trust account (compte séparé, R124-2): statements and reconciliation."""


@trust.command("import")
@click.argument("statement", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def trust_import(statement: Path) -> None:
    """Read a bank statement of the trust account (CSV as the bank exports it)."""
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.services.agency.trust import import_statement
    from recouvrement.adapters.audit import current_actor

    try:
        done = import_statement(agency_database(load_agency_settings()), statement,
                                actor=current_actor())
    except _money_errors() as exc:
        _fail(str(exc))
    if done["already"]:
        click.echo(f"{statement.name}: already imported, nothing changed")
        return
    click.echo(f"{statement.name}: {done['imported']} line(s) imported"
               + (f", {done['duplicates']} already read from an earlier statement (counted once)"
                  if done["duplicates"] else "")
               + (f"; {done['summaries']} balance line(s) left aside" if done["summaries"]
                  else ""))


@trust.command("reconcile")
@click.option("--as-of", type=DATE, help="the day (default: today)")
@FORMAT
def trust_reconcile(as_of: date | None, fmt: str) -> None:
    """Match the statement lines with the payments received and the remittances and fees
    paid; the balances to the cent; what does not match, and why. Exit 1 when unbalanced."""
    from recouvrement.services.agency.selection import agency_database
    from recouvrement.services.agency.trust import reconcile

    settings = load_agency_settings()
    result = reconcile(agency_database(settings), as_of or today_in(settings.timezone))
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(f"trust account as of {result['as_of']}: bank {result['bank_balance']}, "
                   f"books {result['book_balance']} (received - remitted - fees), difference "
                   f"{result['difference']}; {len(result['matched'])} line(s) matched")
        for line in result["unmatched_lines"]:
            click.echo(f"  unmatched {line['file']} row {line['row']} {line['date']} "
                       f"{line['amount']} {line['label']!r}: {line['reason']}")
        for item in result["unmatched_books"]:
            click.echo(f"  not on the statement: {item['reason']}")
        if result["balanced"]:
            click.echo("  balanced: every line matched, to the cent")
    sys.exit(0 if result["balanced"] else 1)


@main.command()
@click.option("--since", type=DATE, help="only the events of this day or later")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write the feed as a `;` CSV here (default: a table on the screen)")
@FORMAT
def feed(since: date | None, out: Path | None, fmt: str) -> None:
    """What the creditor must be told (R124-5): every payment the agency obtained, even
    partial, and every proposal of a debtor; with the day each one was reported to it."""
    from recouvrement.services.agency.feed import feed_csv, feed_rows
    from recouvrement.adapters.private_files import write_private

    rows = feed_rows(_money(), since)
    if out is not None:
        write_private(out, feed_csv(rows), encoding="utf-8-sig")
        click.echo(f"{len(rows)} event(s) written to {out}")
        return
    for row in rows:
        row["known_plan"] = "yes" if row["known_plan"] else ""
        row["reported"] = row["reported"] or "not yet"
        row["amount"] = row["amount"] or ""
        row.pop("details")
    _emit(rows, fmt, ["date", "kind", "account", "debtor", "invoices", "amount", "known_plan",
                      "reported", "what"])
