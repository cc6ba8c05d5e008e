"""The daily run at 100,000 invoices: one worker's run against shards on two workers.

    python bench/shards.py [--invoices 100000] [--shards 1 2] [--workers 2]
                           [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
                           [--out bench/results.md]

Everything is real and on this machine: a Prefect server (its database on
PostgreSQL), the project's deployments (`prefect deploy --all`), process
workers (started as the tests start them, `tests/server/harness.py`), the
ledger on PostgreSQL and an SMTP sink. For each shard count the ledger
starts empty with the same day's exports (made by `bench/generate.py`'s
generator), the `daily-dunning/daily` deployment is run with `shards=N` and
timed from the server's start and end of the run; the figures are appended
to the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import uuid
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from prefect.client.schemas.filters import (FlowRunFilter,  # noqa: E402
                                            FlowRunFilterParentFlowRunId)
from prefect.client.schemas.objects import StateType  # noqa: E402

from bench.generate import OPEN_PER_DEBTOR, invoices_per_debtor_for  # noqa: E402
from recouvrement.adapters.mail.sink import SmtpSink, free_port  # noqa: E402
from recouvrement.entrypoints.scenario import DemoLedger  # noqa: E402
from tests.factories import CREDITOR_ENV  # noqa: E402
from tests.server.harness import POOL, PrefectServer  # noqa: E402

DAY = date(2026, 11, 2)


@contextmanager
def database(admin_url: str, prefix: str, driver: str):
    """A fresh PostgreSQL database, dropped afterwards; yields its URL for `driver`."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg",
                                                  database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (make_url(admin_url).set(drivername=driver, database=name)
               .render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seconds(run) -> float:
    return (run.end_time - run.start_time).total_seconds()


def submitted_by(workers) -> dict[str, str]:
    """Which worker took which flow run, from the workers' own logs."""
    found = {}
    for worker in workers:
        for match in re.finditer(r"submitting flow run '([0-9a-f-]{36})'",
                                 worker.log.read_text(errors="replace")):
            found[match.group(1)] = worker.name
    return found


def count_sent(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        sent = conn.scalar(text("SELECT count(*) FROM reminders WHERE status = 'sent'"))
        keys = conn.scalar(text("SELECT count(DISTINCT key) FROM reminders WHERE status = 'sent'"))
    engine.dispose()
    return sent, keys


def run_daily(server: PrefectServer, shards: int, workers: list, app_url: str) -> dict:
    """The daily deployment with `shards`, timed as the server saw it."""
    daily = server.wait(server.run_deployment("daily-dunning/daily", f"as_of={DAY}",
                                              f"shards={shards}"), timeout=3600)
    if daily.state.type != StateType.COMPLETED:
        raise RuntimeError(f"the daily run ended {daily.state.name}: {daily.state.message}")
    with server.client() as client:
        children = sorted(client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[daily.id]))),
            key=lambda r: r.name)
    ran_by = submitted_by(workers)
    sent, distinct = count_sent(app_url)
    return {"shards": shards, "seconds": seconds(daily), "sent": sent, "distinct": distinct,
            "shard_seconds": [round(seconds(r), 1) for r in children],
            "workers": [ran_by.get(str(r.id), f"{ran_by.get(str(daily.id), '?')}, in the "
                                              "daily run") for r in children]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a server for the ledger and the Prefect database")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    print(f"work folder {work}")

    debtors = max(args.invoices // OPEN_PER_DEBTOR, 2)
    ledger = DemoLedger.generate(debtors, DAY, seed=11, days=0,
                                 invoices_per_debtor=invoices_per_debtor_for(DAY, 11))
    exports = work / "exports"
    ledger.write_exports(DAY, exports, style="iso")
    print(f"exports for {debtors:,} debtors written")

    results = []
    port = free_port()
    for folder in ("server", "client", "workers"):
        (work / folder).mkdir()
    server = PrefectServer(url=f"http://127.0.0.1:{port}/api", home=work / "server",
                           client_home=work / "client", log=work / "server.log")
    with ExitStack() as stack:
        prefect_db = stack.enter_context(database(args.postgres, "prefect_bench",
                                                  "postgresql+asyncpg"))
        server.start(port, prefect_db)
        stack.callback(server.stop)
        server.cli("work-pool", "create", POOL, "--type", "process")
        server.cli("deploy", "--all")
        sink = stack.enter_context(SmtpSink(port=0, keep_in_memory=False))
        for shards in args.shards:
            with database(args.postgres, "recouvrement_bench", "postgresql+psycopg") as app_url:
                home = work / f"home-{shards}"
                shutil.copytree(exports, home / "inbox")
                creditor = {**CREDITOR_ENV,  # a real run refuses without the creditor's identity
                            "RECOUVREMENT_HOME": str(home), "RECOUVREMENT_DATABASE_URL": app_url,
                            "RECOUVREMENT_SMTP_HOST": "127.0.0.1",
                            "RECOUVREMENT_SMTP_PORT": str(sink.port),
                            "RECOUVREMENT_SENDER": "relances@bench.example.com",
                            # every shard may send at once (relay slots, recouvrement/adapters/mail/relay_slots.py)
                            "RECOUVREMENT_SMTP_CONNECTIONS": str(max(args.shards))}
                # One run at a time each: the daily run does the first shard itself, the
                # other workers one shard each.
                workers = [server.start_worker(work / "workers", f"s{shards}-worker-{n + 1}",
                                               limit=1, env=creditor)
                           for n in range(args.workers)]
                print(f"daily run, {shards} shard(s), {args.workers} worker(s)...", flush=True)
                results.append(run_daily(server, shards, workers, app_url))
                server.stop_workers()
                print(json.dumps(results[-1]), flush=True)
    report(args, results, debtors)


def report(args, results: list[dict], debtors: int) -> None:
    base = results[0]["seconds"]
    lines = [f"\n## Shards on {args.workers} workers, {args.invoices:,} invoices, "
             f"{date.today().isoformat()}\n",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; a real Prefect server (database on PostgreSQL), "
             f"{args.workers} process workers, the ledger on PostgreSQL, an SMTP sink on "
             f"loopback in the bench's process; {debtors:,} debtors; "
             "`python bench/shards.py`.\n",
             "| shards | daily run (s, server's start to end) | each shard (s, worker) "
             "| reminders sent | distinct reminders | speed-up |", "|---:|---:|---|---:|---:|---:|"]
    for r in results:
        each = ", ".join(f"{s} ({w})" for s, w in zip(r["shard_seconds"], r["workers"]))
        lines.append(f"| {r['shards']} | {r['seconds']:.1f} | {each or '—'} | {r['sent']:,} | "
                     f"{r['distinct']:,} | {base / r['seconds']:.2f} |")
    text_ = "\n".join(lines) + "\n"
    print(text_)
    with open(args.out, "a") as out:
        out.write(text_)


if __name__ == "__main__":
    main()
