"""`recouvrement demo --agency`: a collection agency working for two creditors, run day by day.

The demo writes the agency's register of creditors (a TOML file, as a user would), each
creditor's accounting exports into its own inbox (two made-up ledgers whose accounts and
invoice numbers overlap, as two companies' ledgers do), then runs the daily flow over the
simulated days: each day one run per creditor, each in its own ledger.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import click

from recouvrement.entrypoints.demo import CONFIG_HEADER, MARKER, _start_orchestrator, fresh_home
from recouvrement.domain.calendar import is_business_day, today_in
from recouvrement.config.settings import CONFIG_FILE, Settings, load_agency_settings

AGENCY = {
    "agency_name": "Agence Démo de Recouvrement",
    "agency_address": "5 quai de la Démonstration\n75019 Paris",
    "sender": "contact@agence-demo.example",
}
REGISTER = '''# The agency's creditors (mandants), written by `recouvrement demo --agency`.
# Register them with: recouvrement creditor import {path}

[[creditors]]
code = "atelier-nord"
name = "Atelier du Nord SAS"
legal_form = "SAS au capital de 50 000 €, RCS Lille"
siren = "812 345 676"
address = """4 rue des Tisserands
59000 Lille"""
phone = "03 20 00 00 01"
iban = "FR70 3000 2005 5000 0015 7845 Z02"
bic = "CRLYFRPP"
sender = "relances-atelier-nord@agence-demo.example"
report_recipients = ["compta@atelier-nord.example"]
report_every = "monthly"

[creditors.mandate]
reference = "MDT-2026-014"
signed_on = 2026-01-05
scope = "Factures clients échues du compte 411, émises depuis le 1er janvier 2025"
fee_percent = "12.50"
fee_minimum = "15.00"
remit_within_days = 30

[[creditors]]
code = "sud-bureautique"
name = "Sud Bureautique SARL"
legal_form = "SARL au capital de 8 000 €, RCS Marseille"
siren = "908 765 431"
address = """18 boulevard de la Corderie
13007 Marseille"""
phone = "04 91 00 00 02"
iban = "FR47 1780 6000 1404 1234 5678 933"
sender = "relances-sud-bureautique@agence-demo.example"

[creditors.mandate]
reference = "MDT-2026-021"
signed_on = 2026-02-16
scope = "Toutes les factures impayées des clients professionnels et particuliers"
fee_percent = "9.00"
'''
SEEDS = {"atelier-nord": 7, "sud-bureautique": 19}


def run_agency_demo(settings: Settings, *, days: int, n_debtors: int, start: date | None) -> None:
    from flows.daily import CreditorsFailed, daily_dunning
    from recouvrement.services.agency.creditors import creditor_settings, save_creditor
    from recouvrement.entrypoints.demo_money import demo_money_day, demo_money_finish
    from recouvrement.services.agency.register_file import read_register
    from recouvrement.services.agency.selection import agency_database, using_creditor
    from recouvrement.adapters.audit import current_actor
    from recouvrement.ingest.manual import ingest_now
    from recouvrement.adapters.logfile import errors_to_log_file
    from recouvrement.adapters.mail.sink import SmtpSink
    from recouvrement.entrypoints.scenario import DemoLedger

    home = fresh_home(settings)
    shutil.rmtree(home / "creditors", ignore_errors=True)
    _write_agency_settings(home)
    agency = load_agency_settings()
    register = home / "creditors.toml"
    register.write_text(REGISTER.format(path=register), encoding="utf-8")
    records = read_register(register)
    with agency_database(agency).session() as session:
        for record in records:
            save_creditor(session, record, actor=current_actor())
    ui = _start_orchestrator(agency)
    start = start or today_in(agency.timezone) - timedelta(days=days)
    echo = click.echo
    ledgers = {r.code: DemoLedger.generate(n_debtors, start, seed=SEEDS[r.code], days=days)
               for r in records}
    own = {r.code: creditor_settings(agency, r) for r in records}
    accounts = [set(ledger.debtors["account"]) for ledger in ledgers.values()]
    numbers = [set(ledger.invoices["invoice_number"]) for ledger in ledgers.values()]
    echo(f"Agency demo: {AGENCY['agency_name']}, {len(records)} creditors registered from "
         f"{register}")
    for record in records:
        echo(f"  {record.code}: {record.name}, {len(ledgers[record.code].debtors)} debtors, "
             f"{len(ledgers[record.code].invoices)} invoices (mandate "
             f"{record.mandate.reference})")
    echo(f"  the two ledgers share {len(accounts[0] & accounts[1])} account numbers and "
         f"{len(numbers[0] & numbers[1])} invoice numbers: other debtors, other invoices, "
         "each in its creditor's own ledger")

    with SmtpSink(port=0, maildir=home / "maildir") as sink:
        os.environ["RECOUVREMENT_SMTP_HOST"] = "127.0.0.1"
        os.environ["RECOUVREMENT_SMTP_PORT"] = str(sink.port)
        os.environ["RECOUVREMENT_SMTP_SECURITY"] = "none"
        os.environ.pop("RECOUVREMENT_SMTP_USER", None)
        os.environ["RECOUVREMENT_DAILY_REPORT"] = "false"
        echo(f"SMTP sink listening on 127.0.0.1:{sink.port}, storing into {home / 'maildir'}")
        errors_to_log_file(home)
        totals = {code: Counter() for code in ledgers}
        rng = random.Random(20261203)
        first = True
        day = start
        for offset in range(days + 1):
            day = start + timedelta(days=offset)
            if not is_business_day(day):
                continue
            for code, ledger in ledgers.items():
                ledger.write_exports(day, Path(own[code].inbox), style="fr", bad_rows=first)
            if not first:  # payments the agency receives, the month's remittances (R124-6)
                for record in records:
                    for line in demo_money_day(agency, record, day, rng):
                        echo(f"  {day}  {line}")
                        totals[record.code]["agency payments" if "receipt" in line
                                            else "remittances"] += 1
            first = False
            try:
                results = daily_dunning(as_of=day)["creditors"]
            except CreditorsFailed as exc:
                results = exc.summary["creditors"]
            for code, result in results.items():
                if result.get("held"):  # complete demo exports: confirm them, run again
                    names = tuple(h["file"] for h in result["held"]["held"])
                    echo(f"  {day}  {code}: held back, confirmed: recouvrement --creditor "
                         f"{code} ingest " + " ".join(f"--confirm {n}" for n in names))
                    with using_creditor(code):
                        ingest_now(own[code], day, confirm=names)
                    result = {"summary": daily_dunning(as_of=day, creditor=code)}
                elif result["error"]:
                    raise click.ClickException(f"{day} creditor {code}: {result['error']}")
                summary = result["summary"]
                sent = Counter(s["level"] for s in summary["send"]["sent"])
                totals[code].update({f"level {k}": v for k, v in sent.items()})
                totals[code]["litigation"] += len(summary["litigation"])
                echo(f"  {day}  {code:16} sent {sum(sent.values()):3d} "
                     f"({', '.join(f'L{k}: {v}' for k, v in sorted(sent.items())) or '-'}), "
                     f"settled {len(summary['ingest']['invoices_settled']):3d}, "
                     f"to litigation {len(summary['litigation'])}")
        trust = demo_money_finish(agency, day)
        messages = len(sink.messages)

    echo("")
    echo(f"Done: {messages} e-mails delivered to the sink ({home / 'maildir'}; the From "
         "address tells the creditor)")
    for record in records:
        where = own[record.code]
        echo(f"Creditor {record.code} ({record.name}): "
             + ", ".join(f"{k}: {v}" for k, v in sorted(totals[record.code].items())))
        echo(f"  its folder                {where.home}")
        echo(f"  letters to print (PDF)    {where.home / 'letters'}")
        echo(f"  its ledger (SQLite)       {where.home / 'recouvrement.db'}")
        echo(f"  debtors                   recouvrement --creditor {record.code} debtors")
        echo(f"  litigation queue          recouvrement --creditor {record.code} litigation list")
        echo(f"  audit log                 recouvrement --creditor {record.code} audit verify")
        echo(f"  payments received (R124-6) recouvrement --creditor {record.code} payment list")
        echo(f"  what it was told (R124-5)  recouvrement --creditor {record.code} feed")
    echo("The agency:")
    echo(f"  its register              recouvrement creditor list   ({register})")
    echo(f"  receipts and statements   {home / 'agency'}")
    echo("  remittances (R124-6)      recouvrement remittance list")
    reconciled = trust["reconciled"]
    echo(f"  trust account (R124-2)    recouvrement trust reconcile   (bank "
         f"{reconciled['bank_balance']}, books {reconciled['book_balance']}, "
         f"{len(reconciled['unmatched_lines'])} line(s) to explain)")
    echo("  one more day, every creditor, by hand   recouvrement run --dry-run")
    echo(f"  Prefect UI                {ui}")


def _write_agency_settings(home: Path) -> None:
    """The agency's settings in the demo home's own `recouvrement.toml` (the environment and
    the working directory's file win)."""
    import json

    (home / MARKER).write_text("made by `recouvrement demo --agency`; the demo resets this "
                               "folder\n")
    (home / CONFIG_FILE).write_text(
        CONFIG_HEADER + "# The demo's agency; its creditors are in creditors.toml.\n"
        + "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
                  for key, value in AGENCY.items()), encoding="utf-8")
