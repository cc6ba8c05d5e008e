"""Reminders per second through the outbox, against plain smtplib as the floor.

    python bench/send_rate.py [--reminders 10000] [--database-url URL] [--out bench/results.md]

A ledger of N debtors with one overdue invoice each is planned (rendering
every reminder and building its e-mail, kept in the outbox as the relay
will receive it), then sent through the outbox to an SMTP sink running in
another process. The floor is plain `smtplib` sending the same pre-rendered
messages (`EmailMessage` objects, serialised as they are sent) over one
connection to the same sink. The ratio is ours / floor; the goal is at
least 0.5. The last row adds planning to our side.
"""

from __future__ import annotations

import argparse
import os
import platform
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from sqlalchemy import select  # noqa: E402

from recouvrement.adapters.db import Database  # noqa: E402
from recouvrement.adapters.db.models import Debtor, Reminder  # noqa: E402
from recouvrement.domain.policy import load_policy  # noqa: E402
from recouvrement.ingest.load import ingest_inbox  # noqa: E402
from recouvrement.adapters.mail.mailer import SmtpMailer  # noqa: E402
from recouvrement.adapters.mail.render import Creditor, RenderedReminder, build_email  # noqa: E402
from recouvrement.adapters.mail.sink import free_port  # noqa: E402
from recouvrement.services.reminder_planning import plan_reminders  # noqa: E402
from recouvrement.services.sending import Pacing, send_outbox  # noqa: E402

DAY = date(2026, 11, 2)
CREDITOR = Creditor(name="Bench SAS", sender="relances@bench.example.com",
                    iban="FR76 3000 6000 0112 3456 7890 189")
SINK = """
import sys, time
from recouvrement.adapters.mail.sink import SmtpSink
with SmtpSink(port=int(sys.argv[1]), keep_in_memory=False):
    print("ready", flush=True)
    sys.stdin.read()
"""


def write_exports(inbox: Path, n: int) -> None:
    with (inbox / "customers.csv").open("w", encoding="utf-8") as f:
        f.write("account,name,email,kind,language\n")
        for i in range(n):
            f.write(f"411B{i:06d},Client {i} SARL,compta{i}@client.example.com,B2B,fr\n")
    with (inbox / "invoices.csv").open("w", encoding="utf-8") as f:
        f.write("invoice_number,account,issue_date,due_date,amount,open_amount,currency,export_date\n")
        for i in range(n):
            f.write(f"B{i:06d},411B{i:06d},2026-09-01,2026-10-01,{100 + i % 900}.50,"
                    f"{100 + i % 900}.50,EUR,{DAY}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    n = args.reminders
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert sink.stdout.readline().strip() == "ready"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inbox = Path(tmp) / "inbox"
            inbox.mkdir()
            write_exports(inbox, n)
            db = Database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
            with db.session() as s:
                ingest_inbox(s, inbox, actor="bench", run_id=None, today=DAY)

            started = time.perf_counter()
            with db.session() as s:
                planned = plan_reminders(s, today=DAY, policy=load_policy(), creditor=CREDITOR,
                                         actor="bench", run_id="bench")
            rendered = time.perf_counter() - started
            started = time.perf_counter()
            report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", port), today=DAY,
                                 sender=CREDITOR.sender, actor="bench", run_id="bench",
                                 pacing=Pacing(retries=0))
            sent = time.perf_counter() - started
            assert len(report.sent) == len(planned.planned) == n, (len(report.sent), n)

            with db.session() as s:
                rows = s.execute(select(Reminder, Debtor.account)
                                 .join(Debtor, Debtor.id == Reminder.debtor_id)).all()
            messages = [build_email(RenderedReminder(r.subject, r.body_text, r.body_html),
                                    sender=CREDITOR.sender, to=r.recipient, debtor_account=account,
                                    level=r.level, invoice_numbers=r.invoice_numbers,
                                    message_id=r.message_id) for r, account in rows]
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                for message in messages:
                    smtp.send_message(message)
            floor = time.perf_counter() - started
            db.dispose()
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)

    ours_rate = n / (rendered + sent)
    send_rate = n / sent
    floor_rate = n / floor
    lines = [
        f"## Sending {n:,} reminders, {time.strftime('%Y-%m-%d')}", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; database: {args.database_url or 'SQLite'}; sink in "
        "another process on loopback.", "",
        "| what | seconds | messages/s | ratio to the floor |", "|---|---:|---:|---:|",
        f"| plain smtplib, pre-rendered, one connection (floor) | {floor:.2f} | {floor_rate:.0f} | 1.00 |",
        f"| outbox send (claim, send, mark sent, audit) | {sent:.2f} | {send_rate:.0f} | "
        f"{send_rate / floor_rate:.2f} |",
        f"| render (plan) + outbox send | {rendered + sent:.2f} | {ours_rate:.0f} | "
        f"{ours_rate / floor_rate:.2f} |", ""]
    print("\n".join(lines))
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
