"""A two-level policy through the real services on SQLite: its level 2 is the formal notice.

The policy says what each level is: here level 1 is a reminder and level 2
the formal notice, so level 2's message states the deadline (and, for a
business, interest and the 40 EUR fee), goes registered, and only after its
deadline does the dossier go to litigation; a consumer's interest counts
from that letter's date.
"""

from __future__ import annotations

from datetime import date

import pytest

from recouvrement.adapters.db import Database
from recouvrement.domain.policy import parse_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.services.litigation import escalate
from recouvrement.adapters.mail.letters import PrintQueue
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.adapters.pdf import FakePdfRenderer
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, Post, send_outbox
from tests.factories import customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.smtp, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
TWO_LEVELS = parse_policy({
    "name": "two-levels", "litigation_after_days": 8,
    "levels": [
        {"level": 1, "offset_days": 0, "relative_to": "due_date", "channels": ["email"],
         "kind": "reminder"},
        {"level": 2, "offset_days": 15, "channels": ["email", "letter"],
         "kind": "formal_notice"}]}, "two-levels.yaml")
DUE = date(2026, 3, 2)       # a Monday
NOTICE = date(2026, 3, 17)   # level 1 + 15 days, a Tuesday
DEADLINE = date(2026, 3, 25)  # NOTICE + 8 days


@pytest.fixture
def ledger(database_url, tmp_path):
    db = Database(database_url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def export(day):
        write_customers(inbox, [customer("411DURAND"), customer("411PETIT", kind="B2C")])
        write_invoices(inbox, day, [invoice("F-100", "411DURAND", DUE, "2400.00"),
                                    invoice("P-1", "411PETIT", DUE, "800.00")])
        with db.session() as s:
            ingest_inbox(s, inbox, actor="test", run_id=None, today=day)

    export(DUE)
    yield db, export, Post(PrintQueue(tmp_path / "letters"), FakePdfRenderer(), TWO_LEVELS)
    db.dispose()


def run_day(db, sink, post, when):
    with db.session() as s:
        plan_reminders(s, today=when, policy=TWO_LEVELS, creditor=CREDITOR, actor="t", run_id="r")
    send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=when,
                sender=CREDITOR.sender, actor="t", run_id="r", pacing=Pacing(retries=0), post=post)
    with db.session() as s:
        return escalate(s, today=when, policy=TWO_LEVELS, actor="t")


def last_to(sink, account):
    return [m for m in sink.messages if m["X-Recouvrement-Debtor"] == account][-1]


def text_of(message):
    return message.get_body(("plain",)).get_content().replace("\u202f", " ").replace("\u00a0", " ")


def test_level_two_of_a_two_level_policy_is_the_formal_notice(ledger, sink):
    db, export, post = ledger
    assert run_day(db, sink, post, DUE) == []
    first = text_of(last_to(sink, "411DURAND"))
    assert "mise en demeure" not in first.lower() and "25/03/2026" not in first

    # Nine days after the reminder: nothing goes to litigation, a reminder is no formal notice.
    export(date(2026, 3, 11))
    assert run_day(db, sink, post, date(2026, 3, 11)) == []

    assert run_day(db, sink, post, NOTICE) == []
    notice = last_to(sink, "411DURAND")
    assert notice["X-Recouvrement-Level"] == "2"
    text = text_of(notice)
    assert "Mise en demeure de payer" in notice["Subject"]
    # 2400 x 12.15 % (ECB 2.15 + 10, H1 2026) x 15/365 (3-17 March) = 11.9836 -> 11,98
    for expected in ("au plus tard le 25/03/2026", "11,98 €", "40,00 €", "2 451,98 €"):
        assert expected in text, expected
    assert [a.get_filename() for a in notice.iter_attachments()] == ["mise-en-demeure.pdf"]
    consumer = text_of(last_to(sink, "411PETIT"))
    assert "25/03/2026" in consumer and "40,00" not in consumer
    assert "Lettre recommandée" in post.pdf.pages[-1]  # the letter goes registered

    export(DEADLINE)
    assert run_day(db, sink, post, DEADLINE) == []  # the deadline's own day: not yet
    export(date(2026, 3, 26))
    queued = {d["debtor"]: d for d in run_day(db, sink, post, date(2026, 3, 26))}
    assert set(queued) == {"411DURAND", "411PETIT"}


def test_a_consumers_interest_counts_from_the_formal_notice(ledger, sink):
    db, export, post = ledger
    run_day(db, sink, post, DUE)
    run_day(db, sink, post, NOTICE)
    export(date(2026, 3, 26))
    [dossier] = [d for d in run_day(db, sink, post, date(2026, 3, 26)) if d["debtor"] == "411PETIT"]
    # 800 x 2.62 % (taux légal H1 2026) x 9/365 (18-26 March, from the day after the notice)
    # = 0.5168 -> 0.52
    assert dossier["interest"] == "0.52"
    assert dossier["fixed_fees"] == "0.00"


def test_the_dossier_names_a_two_level_policy_s_level_two_the_formal_notice(ledger, sink):
    from sqlalchemy import select

    from recouvrement.adapters.db.models import LitigationDossier
    from recouvrement.services.dossier import build_dossier
    from recouvrement.queries.dossier_view import render_html

    db, export, post = ledger
    run_day(db, sink, post, DUE)
    run_day(db, sink, post, NOTICE)
    export(date(2026, 3, 26))
    run_day(db, sink, post, date(2026, 3, 26))
    with db.session() as s:
        dossier = s.scalars(select(LitigationDossier)).first()
        data = build_dossier(s, dossier, creditor=CREDITOR, creditor_is_trader=True,
                             today=date(2026, 3, 26), policy=TWO_LEVELS)
    assert [(x["level"], x["level_name"]) for x in data["letters"]] == [
        (1, "rappel"), (2, "mise en demeure")]
    assert "mise en demeure" in render_html(data)
