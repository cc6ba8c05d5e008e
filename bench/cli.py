"""Time `recouvrement run` as a user runs it, beside a floor of the same work done by hand.

    python bench/cli.py --invoices 10000 100000 [--out bench/results.md] [--keep DIR]

`--keep DIR` works in DIR and leaves it there: each size's home and exports, and the
local Prefect server's database, whose task runs give each step's duration.

For each size (one debtor per ten open invoices) a fresh home gets one day's
exports, then four whole commands run in new processes, each timed from
outside (wall clock, and the peak resident memory of the process from
`wait4`), against one local Prefect server started first with
`recouvrement server start` and an SMTP sink in another process
(`recouvrement smtp-sink`):

- first run: the day's exports, every debtor;
- quiet rerun: the same day again, nothing new;
- one-debtor rerun: `--debtor ACCOUNT` for a debtor with open invoices;
- second day: the next business day's export, 5 % of the invoices paid.

The floor, in a new process too: pandas reads the two exports, SQLite takes
every row (one executemany per table), Jinja2 renders one e-mail per debtor
for as many debtors as the first run sent reminders to, listing its overdue
invoices, and smtplib sends them over one connection to the same sink.

The load of the machine (`os.getloadavg`) is noted before and after each size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.factories import CREDITOR_ENV  # noqa: E402

DAY = date(2026, 11, 2)
NEXT_DAY = date(2026, 11, 3)
PAID_SHARE = 0.05


# Linux keeps a process's largest resident size across `exec`: a command forked from this
# process, which holds the generated ledger (some 900 MiB at 1,000,000 invoices), would
# report this process's size as its own peak whenever its own is smaller. The commands are
# started from a small launcher process instead, forked before any ledger is generated.
_LAUNCHER: ProcessPoolExecutor | None = None


def start_launcher() -> None:
    global _LAUNCHER
    _LAUNCHER = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    _LAUNCHER.submit(os.getpid).result()  # up now, while this process is small


def timed(command: list[str], env: dict, log: Path) -> tuple[float, float, int, str, float]:
    """(wall seconds, peak RSS MiB, exit code, stdout, CPU seconds) of one command run to its end.

    The CPU seconds (user + system, of the process and the children it waited
    for) say what the command cost when the machine is busy and wall time is
    mostly waiting for a processor.
    """
    if _LAUNCHER is not None:
        return _LAUNCHER.submit(_timed_here, command, env, log).result()
    return _timed_here(command, env, log)


def _timed_here(command: list[str], env: dict, log: Path) -> tuple[float, float, int, str, float]:
    with log.open("ab") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err,
                                   cwd=REPO)
        out = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return (seconds, usage.ru_maxrss / 1024, process.returncode, out.decode(errors="replace"),
            usage.ru_utime + usage.ru_stime)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "recouvrement.entrypoints.cli", *args]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# --- the floor --------------------------------------------------------------------------

FLOOR_TEMPLATE = """Madame, Monsieur,

Sauf erreur de notre part, les factures suivantes restent impayées :
{% for i in invoices %}  {{ i.invoice_number }}  échue le {{ i.due_date }}  {{ i.open_amount }} EUR
{% endfor %}
Merci de procéder à leur règlement.
"""


def floor(inbox: Path, database: Path, port: int, reminders: int, day: date) -> None:
    """The same work by hand: read, insert, render, send over one connection."""
    import smtplib
    from email.message import EmailMessage

    import jinja2
    import pandas as pd

    customers = pd.concat([pd.read_csv(p, dtype=str) for p in inbox.glob("customers*.csv")])
    invoices = pd.concat([pd.read_csv(p, dtype=str) for p in inbox.glob("invoices*.csv")])
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE debtors (account TEXT PRIMARY KEY, name TEXT, email TEXT)")
        db.execute("CREATE TABLE invoices (number TEXT PRIMARY KEY, account TEXT, "
                   "due_date TEXT, open_amount TEXT)")
        db.executemany("INSERT INTO debtors VALUES (?, ?, ?)",
                       customers[["account", "name", "email"]].itertuples(index=False))
        db.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?)", invoices[
            ["invoice_number", "account", "due_date", "open_amount"]].itertuples(index=False))
    template = jinja2.Environment(autoescape=True).from_string(FLOOR_TEMPLATE)
    overdue = invoices[invoices["due_date"] < day.isoformat()]
    emails = dict(zip(customers["account"], customers["email"]))
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n, (account, rows) in enumerate(overdue.groupby("account")):
            if n >= reminders:
                break
            message = EmailMessage()
            message["From"], message["To"] = "relances@bench.example.com", emails[account]
            message["Subject"] = f"Relance {account}"
            message.set_content(template.render(invoices=rows.to_dict("records")))
            smtp.send_message(message)


# --- one size ---------------------------------------------------------------------------

def second_day_export(inbox: Path, seed: int = 5) -> int:
    """The next day's invoices export: the same, without 5 % of the invoices (paid)."""
    import pandas as pd

    first = pd.read_csv(inbox / f"invoices_{DAY:%Y%m%d}.csv", dtype=str)
    paid = first.sample(frac=PAID_SHARE, random_state=seed)
    rest = first.drop(paid.index).assign(export_date=NEXT_DAY.isoformat())
    rest.to_csv(inbox / f"invoices_{NEXT_DAY:%Y%m%d}.csv", index=False)
    return len(paid)


def run_size(invoices: int, workdir: Path, api_url: str, port: int, log: Path) -> list[str]:
    from bench.generate import OPEN_PER_DEBTOR, invoices_per_debtor_for
    from recouvrement.entrypoints.scenario import DemoLedger

    home = workdir / f"home-{invoices}"
    inbox = home / "inbox"
    ledger = DemoLedger.generate(max(invoices // OPEN_PER_DEBTOR, 2), DAY, seed=11, days=0,
                                 invoices_per_debtor=invoices_per_debtor_for(DAY, 11))
    ledger.write_exports(DAY, inbox, style="iso")
    customers, open_items = ledger.snapshot(DAY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUVREMENT_")}
    env.update(CREDITOR_ENV)  # a real run refuses without the creditor's identity
    env.update(RECOUVREMENT_HOME=str(home), RECOUVREMENT_SMTP_HOST="127.0.0.1",
               RECOUVREMENT_SMTP_PORT=str(port), RECOUVREMENT_SENDER="relances@bench.example.com",
               PREFECT_API_URL=api_url, PYTHONPATH=str(REPO))
    before = load()
    print(f"{len(open_items):,} open invoices, {len(customers):,} debtors; load {before}",
          flush=True)
    rows = []

    def step(name: str, command: list[str]) -> str:
        seconds, mib, code, out, cpu = timed(command, env, log)
        sent = re.search(r"sent: (\d+)", out)
        rows.append((name, seconds, mib, code, sent.group(1) if sent else "-", cpu))
        print(f"  {name:<22} {seconds:8.2f} s  cpu {cpu:7.2f} s  {mib:8.1f} MiB  exit {code}  "
              f"sent {rows[-1][4]}", flush=True)
        return out

    first = step("first run", cli("run", "--as-of", DAY.isoformat()))
    step("quiet rerun", cli("run", "--as-of", DAY.isoformat()))
    account = re.search(r"level \d to (\S+):", first)
    step("one-debtor rerun", cli("run", "--as-of", DAY.isoformat(), "--debtor",
                                 account.group(1) if account else customers["account"].iloc[0]))
    paid = second_day_export(inbox)
    step(f"second day ({paid:,} paid)", cli("run", "--as-of", NEXT_DAY.isoformat()))

    reminders = int(rows[0][4]) if rows[0][4] != "-" else 0
    floor_inbox = workdir / f"floor-{invoices}"
    floor_inbox.mkdir()
    for path in inbox.glob(f"*_{DAY:%Y%m%d}.csv"):
        shutil.copy(path, floor_inbox)
    seconds, mib, code, _out, cpu = timed(
        [sys.executable, str(Path(__file__).resolve()), "--floor", str(floor_inbox),
         str(floor_inbox / "floor.db"), str(port), str(reminders)], env, log)
    print(f"  {'floor (first run)':<22} {seconds:8.2f} s  cpu {cpu:7.2f} s  {mib:8.1f} MiB  "
          f"exit {code}", flush=True)
    after = load()
    first_s = rows[0][1]
    lines = [f"### {len(open_items):,} open invoices, {len(customers):,} debtors", "",
             f"Load average (1/5/15 min) before: {before}, after: {after}.", "",
             "| command | wall (s) | CPU (s) | peak RSS (MiB) | exit | reminders sent | "
             "wall × floor | CPU × floor | wall × first run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, secs, mib_, code_, sent, cpu_ in rows:
        lines.append(f"| {name} | {secs:.1f} | {cpu_:.1f} | {mib_:.0f} | {code_} | {sent} | "
                     f"{secs / seconds:.2f} | {cpu_ / cpu:.2f} | {secs / first_s:.2f} |")
    lines += [f"| floor: pandas, SQLite, Jinja2, smtplib ({reminders:,} e-mails) | "
              f"{seconds:.1f} | {cpu:.1f} | {mib:.0f} | {code} | {reminders} | 1.00 | 1.00 | "
              f"{seconds / first_s:.2f} |", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    parser.add_argument("--floor", nargs=4, metavar=("INBOX", "DB", "PORT", "REMINDERS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR (new or empty) and keep it: the homes, the exports "
                             "and the Prefect server's database, for the steps' durations")
    args = parser.parse_args()
    if args.floor:
        inbox, db, port, reminders = args.floor
        floor(Path(inbox), Path(db), int(port), int(reminders), DAY)
        return

    from recouvrement.adapters.mail.sink import free_port

    start_launcher()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(str(args.keep)) if args.keep
          else tempfile.TemporaryDirectory(prefix="bench-cli-")) as tmp:
        work = Path(tmp)
        log = work / "bench.log"
        env = {**os.environ, "PYTHONPATH": str(REPO), "RECOUVREMENT_HOME": str(work / "server")}
        env.pop("PREFECT_API_URL", None)
        port = free_port()
        sink = subprocess.Popen(cli("smtp-sink", "--port", str(port), "--maildir",
                                    str(work / "maildir")), env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(cli("server", "start"), env=env, cwd=REPO, check=True)
        state = json.loads((work / "server" / "prefect" / "server.json").read_text())
        api_url = f"http://127.0.0.1:{state['port']}/api"
        lines = [f"## The whole command, {time.strftime('%Y-%m-%d %H:%M')}", "",
                 f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
                 f"{platform.python_version()}; SQLite; a local Prefect server and an SMTP "
                 "sink in their own processes.", ""]
        try:
            for size in args.invoices:
                lines += run_size(size, work, api_url, port, log)
                with args.out.open("a", encoding="utf-8") as handle:  # each size as it ends
                    handle.write("\n".join(lines) + "\n")
                lines = []
        finally:
            subprocess.run(cli("server", "stop"), env=env, cwd=REPO)
            sink.terminate()
            sink.wait()
            if log.exists():
                print(f"stderr of the commands (last lines):\n"
                      + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    print(f"results appended to {args.out}")


if __name__ == "__main__":
    main()
