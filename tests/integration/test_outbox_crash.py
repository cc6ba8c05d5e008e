"""A sending process killed mid-batch; the rerun neither loses nor doubles a reminder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Reminder
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.slow,
              pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)
DEBTORS = 30
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")

CHILD = textwrap.dedent("""
    import sys
    from datetime import date
    from recouvrement.adapters.db import Database
    from recouvrement.adapters.mail.mailer import SmtpMailer
    from recouvrement.services.sending import Pacing, send_outbox
    url, port = sys.argv[1], int(sys.argv[2])
    send_outbox(Database(url), lambda: SmtpMailer("127.0.0.1", port), today=date(2026, 11, 2),
                sender="relances@creancier.example.com", actor="child", run_id="child",
                pacing=Pacing(retries=0, rate_per_second=20))
""")


def test_killed_mid_batch_then_rerun_sends_every_reminder_once(database_url, sink, tmp_path):
    db = Database(database_url)
    write_customers(tmp_path, [customer(f"411K{i:02d}") for i in range(DEBTORS)])
    write_invoices(tmp_path, DAY, [invoice(f"K{i:02d}", f"411K{i:02d}", date(2026, 10, 1))
                                   for i in range(DEBTORS)])
    with db.session() as session:
        ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
    with db.session() as session:
        plan_reminders(session, today=DAY, policy=load_policy(), creditor=CREDITOR,
                       actor="test", run_id="run")

    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(sink.port)],
                             env={**os.environ})
    deadline = time.monotonic() + 60
    while sink.received < 10 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the sender finished before it could be killed"
    delivered_before = sink.received
    assert 10 <= delivered_before < DEBTORS

    with db.session() as session:
        states = Counter(session.scalars(select(Reminder.status)))
    assert states["sent"] >= delivered_before - 1 and states["sending"] <= 1

    # The rerun, once the dead run's lease has expired (here at once).
    report = send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=DAY,
                         sender=CREDITOR.sender, actor="test", run_id="rerun", lease_minutes=0,
                         pacing=Pacing(retries=0))
    assert report.failed == []
    with db.session() as session:
        rows = list(session.scalars(select(Reminder)))
    assert {r.status for r in rows} == {"sent"} and len(rows) == DEBTORS

    # Not lost: every reminder arrived. Not doubled: one Message-ID per reminder;
    # only the one in flight at the kill may have reached the relay twice, under
    # the same Message-ID, which is what receiving servers de-duplicate on.
    arrivals = Counter(m["Message-ID"] for m in sink.messages)
    assert set(arrivals) == {r.message_id for r in rows}
    assert sum(n - 1 for n in arrivals.values()) <= states["sending"]
    assert Counter(m["X-Recouvrement-Debtor"] for m in sink.messages).keys() == {
        f"411K{i:02d}" for i in range(DEBTORS)}
    db.dispose()
