"""`recouvrement demo`: a few weeks of a creditor's life, run day by day on a local sink."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import click

from recouvrement.domain.calendar import is_business_day, today_in
from recouvrement.config.settings import Settings

MARKER = ".demo"
CONFIG_HEADER = "# Written by `recouvrement demo`: the demo's creditor. Not for real letters.\n"
# The demo creditor (a made-up SIREN and account, valid check digits): its settings file in
# the demo's home lets the later commands of the README run on the demo's ledger.
DEMO_CREDITOR = {
    "creditor_name": "Créancier Démo SAS",
    "creditor_legal_form": "SAS au capital de 10 000 €, RCS Paris",
    "creditor_siren": "123456782",
    "creditor_address": "10 avenue de la Démonstration\n75011 Paris",
    "creditor_phone": "01 23 45 67 89",
    "creditor_iban": "FR76 3000 6000 0112 3456 7890 189",
    "creditor_bic": "AGRIFRPP",
    "sender": "relances@creancier-demo.example",
}


def _reset_home(home: Path) -> None:
    """Start from an empty home, but never on a home that holds real data."""
    db = home / "recouvrement.db"
    if db.exists() and not (home / MARKER).exists():
        raise click.ClickException(
            f"{home} already holds a ledger that the demo did not make; point "
            "RECOUVREMENT_HOME at an empty folder to run the demo")
    settings_file = home / "recouvrement.toml"
    if settings_file.exists() and not settings_file.read_text(
            encoding="utf-8", errors="replace").startswith(CONFIG_HEADER):
        raise click.ClickException(
            f"{settings_file} holds settings the demo did not write; point RECOUVREMENT_HOME "
            "at an empty folder to run the demo")
    for name in ("recouvrement.db", "recouvrement.db-wal", "recouvrement.db-shm"):
        (home / name).unlink(missing_ok=True)
    for name in ("inbox", "maildir", "sms", "creditors"):  # creditors: an agency demo's
        shutil.rmtree(home / name, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by `recouvrement demo`; the demo resets this folder\n")
    _write_settings(home)


def _write_settings(home: Path) -> None:
    """The demo creditor's settings, in the home's own `recouvrement.toml` (below the
    environment and the working directory's file, which win: a creditor set there is used)."""
    import json

    from recouvrement.config.settings import CONFIG_FILE

    path = home / CONFIG_FILE  # _reset_home made sure it is not the user's
    path.write_text(CONFIG_HEADER + "".join(
        f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
        for key, value in {**DEMO_CREDITOR, "policy": str(home / DEMO_POLICY)}.items()),
        encoding="utf-8")


DEMO_POLICY = "demo-policy.yaml"


def _write_policy(home: Path) -> None:
    """The default ladder, with an SMS beside the e-mail of the first reminder (and of the
    formal notice): the demo's own policy, which its settings file names for later commands."""
    import yaml

    from importlib import resources

    policy = yaml.safe_load(resources.files("recouvrement.domain")
                            .joinpath("rules/default_policy.yaml").read_text(encoding="utf-8"))
    policy["name"] = "demo-with-sms"
    for levels in [policy["levels"], *(s["levels"] for s in policy.get("segments", []))]:
        for level in levels:
            if level["level"] in (1, 3):
                level["channels"] = [*level["channels"][:1], "sms", *level["channels"][1:]]
    (home / DEMO_POLICY).write_text(
        "# Written by `recouvrement demo`: the default ladder, with SMS at levels 1 and 3.\n"
        + yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.environ["RECOUVREMENT_POLICY"] = str(home / DEMO_POLICY)


def fresh_home(settings: Settings) -> Path:
    """The demo's home, emptied of an earlier demo's files; the demo runs on SQLite only."""
    if settings.database_url != f"sqlite:///{settings.home / 'recouvrement.db'}":
        raise click.ClickException("the demo runs on the embedded SQLite database: unset "
                                   "RECOUVREMENT_DATABASE_URL")
    home = settings.home.resolve()
    _reset_home(home)
    return home


def run_demo(settings: Settings, *, days: int, n_debtors: int, start: date | None) -> None:
    from flows.daily import daily_dunning
    from recouvrement.adapters.logfile import errors_to_log_file
    from recouvrement.adapters.db import open_database
    from recouvrement.ingest.errors import FilesHeld
    from recouvrement.ingest.manual import ingest_now
    from recouvrement.adapters.channels.sms_sink import SmsSink
    from recouvrement.adapters.mail.sink import SmtpSink
    from recouvrement.queries.reports import set_dispute
    from recouvrement.entrypoints.scenario import DemoLedger

    home = fresh_home(settings)
    ui = _start_orchestrator(settings)
    today = today_in(settings.timezone)
    start = start or today - timedelta(days=days)
    ledger = DemoLedger.generate(n_debtors, start, days=days)
    echo = click.echo
    echo(f"Demo: {n_debtors} debtors, {len(ledger.invoices)} invoices, simulated from "
         f"{start} to {start + timedelta(days=days)} on business days")

    _write_policy(home)
    with SmtpSink(port=0, maildir=home / "maildir") as sink, \
            SmsSink(home / "sms", api_key="demo") as texts:
        # The texts go to a local provider speaking Brevo's API, whatever hour it is.
        os.environ.update(RECOUVREMENT_SMS_PROVIDER="brevo", RECOUVREMENT_SMS_URL=texts.url,
                          RECOUVREMENT_SMS_API_KEY="demo", RECOUVREMENT_SMS_SENDER="CREANCDEMO",
                          RECOUVREMENT_SMS_QUIET_HOURS="false")
        echo(f"SMS sink (Brevo's API) on {texts.url}, storing into {home / 'sms'}")
        os.environ["RECOUVREMENT_SMTP_HOST"] = "127.0.0.1"
        os.environ["RECOUVREMENT_SMTP_PORT"] = str(sink.port)
        os.environ["RECOUVREMENT_SMTP_SECURITY"] = "none"
        os.environ.pop("RECOUVREMENT_SMTP_USER", None)
        # One report at the end over all the simulated days, not one per day.
        os.environ["RECOUVREMENT_DAILY_REPORT"] = "false"
        echo(f"SMTP sink listening on 127.0.0.1:{sink.port}, storing into {home / 'maildir'}")
        totals: Counter = Counter()
        disputed = False
        first = True
        # A day held back is met and confirmed below: Prefect's traceback of it goes to the
        # log file, as for `recouvrement run`, not onto the demo's screen.
        errors_to_log_file(home)
        for offset in range(days + 1):
            day = start + timedelta(days=offset)
            if not is_business_day(day):
                continue
            ledger.write_exports(day, settings.inbox, style="fr", bad_rows=first)
            try:
                summary = daily_dunning(as_of=day)
            except FilesHeld as exc:
                # The demo's exports are complete: confirm them, as the credit manager
                # would after checking, and run the day again.
                names = tuple(h["file"] for h in exc.report["held"])
                echo(f"  {day}  held back, confirmed: recouvrement ingest "
                     + " ".join(f"--confirm {n}" for n in names))
                ingest_now(settings, day, confirm=names)
                summary = daily_dunning(as_of=day)
            first = False
            sent = Counter(s["level"] for s in summary["send"]["sent"])
            totals.update({f"level {k}": v for k, v in sent.items()})
            totals["quarantined"] += len(summary["ingest"]["quarantined"])
            totals["settled"] += len(summary["ingest"]["invoices_settled"])
            totals["litigation"] += len(summary["litigation"])
            echo(f"  {day}  sent {sum(sent.values()):3d} "
                 f"({', '.join(f'L{k}: {v}' for k, v in sorted(sent.items())) or '-'}), "
                 f"settled {len(summary['ingest']['invoices_settled']):3d}, "
                 f"quarantined {len(summary['ingest']['quarantined'])}, "
                 f"to litigation {len(summary['litigation'])}, "
                 f"calls to make {_calls_to_make(summary)}")
            if not disputed and sent:
                number = _dispute_one(open_database(settings.database_url), set_dispute)
                disputed = number is not None
                if disputed:
                    echo(f"  {day}  the debtor of {number} calls to contest it: dispute opened")
            for account, outcome in _work_calls(open_database(settings.database_url), day):
                echo(f"  {day}  the collector calls {account}: {outcome}")
        messages, sms = len(sink.messages), len(texts.received)
    report = _write_report(settings, start, day)

    echo("")
    echo(f"Done: {messages} e-mails and {sms} SMS delivered to the sinks; "
         + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
    echo("Where to look:")
    echo(f"  e-mails (Maildir)         {home / 'maildir'}")
    echo(f"  letters to print (PDF)    {home / 'letters'}   (one folder a day, manifest.csv)")
    echo(f"  SMS (one JSON a text)     {home / 'sms'}   (the demo's ladder texts at levels 1 and 3)")
    echo(f"  the ledger (SQLite)       {home / 'recouvrement.db'}")
    echo(f"  the report (HTML, PDF)    {report}   (recouvrement report)")
    echo("  debtors and risk          recouvrement debtors")
    echo("  phone tasks (worklist)    recouvrement calls   |   recouvrement call log ACCOUNT "
         "--outcome no-answer")
    echo("  litigation queue          recouvrement litigation list")
    echo("  audit log                 recouvrement audit show   |   recouvrement audit verify")
    echo("  one more day, by hand     recouvrement run --dry-run")
    echo(f"  Prefect UI                {ui}")


def _calls_to_make(summary: dict) -> str:
    calls = summary.get("calls") or {}
    carried = f" ({calls['carried']} carried)" if calls.get("carried") else ""
    return f"{calls.get('open', 0) + calls.get('carried', 0):3d}{carried}"


# What the demo's collector hears, in turn; a promise is kept for a week.
CALL_OUTCOMES = ("no-answer", "promise", "voicemail", "answered")


def _work_calls(db, day: date) -> list[tuple[str, str]]:
    """The collector works the day's worklist but its last call, which is carried to the
    next day (a promise and the carrying show in `recouvrement calls`)."""
    from recouvrement.services.calls import log_call, worklist

    worked = []
    with db.session() as session:
        rows = worklist(session, day)
        for n, row in enumerate(rows[:-1]):
            outcome = CALL_OUTCOMES[(day.toordinal() + n) % len(CALL_OUTCOMES)]
            until = day + timedelta(days=7) if outcome == "promise" else None
            log_call(session, row["account"], outcome, today=day, until=until)
            worked.append((row["account"], outcome if until is None
                           else f"promise to pay by {until.isoformat()}"))
    return worked


def _start_orchestrator(settings: Settings) -> str:
    """The local Prefect server of the home, left up for the user: the UI to look at.

    With PREFECT_API_URL set, the demo reports to that server instead.
    """
    from recouvrement.adapters import orchestrator
    from recouvrement.entrypoints.runner import connect_or_exit

    if os.environ.get("PREFECT_API_URL"):
        return f"{connect_or_exit(settings).removesuffix('/api')}  (PREFECT_API_URL)"
    try:
        local, started = orchestrator.start(settings.home,
                                            timeout=settings.prefect_startup_timeout_seconds,
                                            retries=settings.prefect_startup_retries)
    except orchestrator.Unreachable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Prefect server {'started' if started else 'already up'}: UI {local.url} "
               "(stays up after the demo: recouvrement server stop)")
    connect_or_exit(settings)
    return f"{local.url}   (Flow Runs: one run a day; recouvrement server stop to end it)"


def _write_report(settings: Settings, start: date, day: date) -> Path:
    """The credit manager's report over the demo's days, as a page and as PDF."""
    from recouvrement.context import run_context
    from recouvrement.queries.dashboard import compute_report, report_path, write_report

    ctx = run_context()
    with ctx.db.session() as session:
        figures = compute_report(session, ctx.policy, as_of=day, start=start)
    page = write_report(figures, report_path(settings.home.resolve(), day), "fr")
    write_report(figures, page.with_suffix(".pdf"), "fr")
    return page


def _dispute_one(db, set_dispute) -> str | None:
    """Open a dispute on an invoice a level-1 reminder just chased."""
    from sqlalchemy import select

    from recouvrement.adapters.db.models import Invoice, ReminderItem

    with db.session() as session:
        number = session.scalar(
            select(Invoice.number).join(ReminderItem, ReminderItem.invoice_id == Invoice.id)
            .where(Invoice.status == "open", ReminderItem.level == 1).order_by(Invoice.number)
            .limit(1))
        if number is None:
            return None
        set_dispute(session, number, reason="the debtor says the goods arrived damaged")
    return number
