"""Time one daily run, step by step, at several ledger sizes.

    python bench/daily_run.py --invoices 10000 100000 [--database-url URL] [--out bench/results.md]

Each size gets a fresh home (SQLite by default) with one day's exports made
by `bench/generate.py`'s generator, then runs the same steps as the flow's
tasks, in order, sending to a local SMTP sink. For each step it prints the
wall time and the process's peak resident memory during it (sampled from
/proc), and appends the figures to the results file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import threading
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from recouvrement.adapters.audit import current_actor  # noqa: E402
from recouvrement.adapters.db import Database  # noqa: E402
from recouvrement.domain.policy import load_policy  # noqa: E402
from recouvrement.ingest.load import ingest_inbox  # noqa: E402
from recouvrement.services.litigation import escalate  # noqa: E402
from recouvrement.adapters.mail.mailer import SmtpMailer  # noqa: E402
from recouvrement.adapters.mail.render import Creditor  # noqa: E402
from recouvrement.adapters.mail.sink import SmtpSink  # noqa: E402
from recouvrement.services.reminder_planning import plan_reminders  # noqa: E402
from recouvrement.entrypoints.scenario import DemoLedger  # noqa: E402
from recouvrement.services.scoring import score_ledger  # noqa: E402
from recouvrement.services.sending import send_outbox  # noqa: E402
from bench.generate import OPEN_PER_DEBTOR, invoices_per_debtor_for  # noqa: E402

DAY = date(2026, 11, 2)


class PeakRss:
    """Samples the process's resident memory in a thread: no slowdown of the step measured."""

    def __init__(self, every: float = 0.02):
        self.every, self.peak, self._stop = every, 0, threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> "PeakRss":
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def measure(name: str, step, rows: list):
    with PeakRss() as memory:
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
    rows.append((name, seconds, memory.peak / 2**20))
    print(f"  {name:<10} {seconds:8.2f} s   peak RSS {memory.peak / 2**20:8.1f} MiB", flush=True)
    return result


def run_size(invoices: int, database_url: str | None, workdir: Path) -> tuple[list, dict]:
    home = workdir / f"home-{invoices}"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    debtors = max(invoices // OPEN_PER_DEBTOR, 2)
    ledger = DemoLedger.generate(debtors, DAY, seed=11, days=0,
                                 invoices_per_debtor=invoices_per_debtor_for(DAY, 11))
    ledger.write_exports(DAY, inbox, style="iso")
    db = Database(database_url or f"sqlite:///{home / 'recouvrement.db'}")
    policy, actor = load_policy(), current_actor("bench")
    creditor = Creditor(name="Bench SAS", sender="relances@bench.example.com")
    rows: list = []
    facts: dict = {}
    print(f"{invoices} invoices wanted, {debtors} debtors, {db.engine.dialect.name}")

    def ingest():
        with db.session() as s:
            return ingest_inbox(s, inbox, actor=actor, run_id="bench", today=DAY)

    def score():
        with db.session() as s:
            return score_ledger(s, today=DAY, actor=actor)

    def plan():
        with db.session() as s:
            return plan_reminders(s, today=DAY, policy=policy, creditor=creditor, actor=actor,
                                  run_id="bench")

    report = measure("ingest", ingest, rows)
    facts["open invoices loaded"] = report.invoices_created
    measure("score", score, rows)
    facts["reminders planned"] = len(measure("plan", plan, rows).planned)
    with SmtpSink(port=0) as sink:
        sent = measure("send", lambda: send_outbox(
            db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY, sender=creditor.sender,
            actor=actor, run_id="bench"), rows)
    facts["reminders sent"] = len(sent.sent)

    def litigate():
        with db.session() as s:
            return escalate(s, today=DAY, policy=policy, actor=actor)

    measure("escalate", litigate, rows)
    db.dispose()
    return rows, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", help="default: a fresh SQLite file per size")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    lines = [f"## Daily run, {time.strftime('%Y-%m-%d')}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; database: {args.database_url or 'SQLite'}", ""]
    # Importing Great Expectations and building its context costs a few seconds
    # once per process; time it apart so the steps show their own cost.
    started = time.perf_counter()
    from recouvrement.ingest.validation import _context

    _context()
    startup = time.perf_counter() - started
    print(f"startup (Great Expectations import and context): {startup:.2f} s")
    lines += [f"One-time startup per process (Great Expectations import and context): "
              f"{startup:.2f} s", ""]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.invoices:
            rows, facts = run_size(size, args.database_url, Path(tmp))
            total = sum(r[1] for r in rows)
            lines += [f"### {size:,} invoices wanted ("
                      + ", ".join(f"{k}: {v:,}" for k, v in facts.items()) + ")", "",
                      "| step | wall time (s) | peak RSS of the process (MiB) |", "|---|---:|---:|"]
            lines += [f"| {name} | {secs:.2f} | {mib:.1f} |" for name, secs, mib in rows]
            lines += [f"| **total** | **{total:.2f}** | |", ""]
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"results appended to {args.out}")


if __name__ == "__main__":
    main()
