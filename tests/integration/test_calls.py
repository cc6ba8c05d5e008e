"""Phone tasks on both backends: made once with their reminder, carried until worked, and what
each logged call does to the ladder."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from recouvrement.services.calls import CallError, carry_call_tasks, log_call, worklist
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import AuditEntry, CallTask, Debtor, Invoice, Promise
from recouvrement.domain.policy import load_policy
from recouvrement.ingest.load import ingest_inbox
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.adapters.mail.render import Creditor
from recouvrement.services.reminder_planning import plan_reminders
from recouvrement.services.sending import Pacing, send_outbox
from tests.conftest import BACKENDS
from tests.factories import at_once, customer, invoice, write_customers, write_invoices

pytestmark = [pytest.mark.parametrize("database_url", BACKENDS, indirect=True)]

DAY = date(2026, 11, 2)  # a Monday; every invoice fell due on 1 October
LEVEL_2 = date(2026, 11, 17)  # level 1 on 2 Nov + 15 days, a business day
CREDITOR = Creditor(name="Exemple SAS", sender="relances@creancier.example.com")
POLICY = load_policy()
# account: risk score (None: low risk, no phone task), invoices and their amounts
DEBTORS = {"411HIGH": (85, ["1200.00"]), "411BIG": (70, ["300.00", "4000.00"]),
           "411RICH": (85, ["5000.00"]), "411LOW": (None, ["900.00"])}


@pytest.fixture
def db(database_url, tmp_path):
    database = Database(database_url)
    write_customers(tmp_path, [customer(a) for a in DEBTORS])
    write_invoices(tmp_path, DAY, [invoice(f"F{a[3:]}{n}", a, date(2026, 10, 1), amount)
                                   for a, (_, amounts) in DEBTORS.items()
                                   for n, amount in enumerate(amounts, 1)])
    with database.session() as session:
        ingest_inbox(session, tmp_path, actor="test", run_id=None, today=DAY)
        for account, (score, _) in DEBTORS.items():  # as the scoring step leaves them
            session.execute(update(Debtor).where(Debtor.account == account).values(
                risk_score=score or 10, risk_class="high" if score else "low"))
    yield database
    database.dispose()


def plan(db, day=DAY, account=None):
    with db.session() as session:
        return plan_reminders(session, today=day, policy=POLICY, creditor=CREDITOR, actor="test",
                              run_id="run", account=account)


def send(db, sink, day=DAY):
    return send_outbox(db, lambda: SmtpMailer("127.0.0.1", sink.port), today=day,
                       sender=CREDITOR.sender, actor="test", run_id="run", pacing=Pacing(retries=0))


def carry(db, day):
    with db.session() as session:
        return carry_call_tasks(session, today=day, actor="test")


def calls(db, day):
    with db.session() as session:
        return worklist(session, day)


def log(db, account, outcome, day=DAY, **kw):
    with db.session() as session:
        return log_call(session, account, outcome, today=day, **kw)


def tasks(db):
    with db.session() as session:
        return [(account, t.level, t.status, t.outcome) for t, account in session.execute(
            select(CallTask, Debtor.account).join(Debtor, Debtor.id == CallTask.debtor_id)
            .order_by(Debtor.account, CallTask.id))]


def events(db, kind):
    with db.session() as session:
        return [(e.account, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.event == kind).order_by(AuditEntry.id))]


def test_a_high_risk_debtor_s_first_reminder_makes_one_task_whatever_the_reruns(db):
    at_once(lambda: plan(db), lambda: plan(db))  # two runs at once
    plan(db)  # and a rerun
    plan(db, account="411HIGH")  # and a rerun for the debtor
    assert tasks(db) == [("411BIG", 1, "open", None), ("411HIGH", 1, "open", None),
                         ("411RICH", 1, "open", None)]  # the low-risk debtor gets no call
    assert sorted(a for a, _ in events(db, "call.task_created")) == ["411BIG", "411HIGH",
                                                                      "411RICH"]


def test_the_worklist_is_riskiest_then_largest_first_with_what_is_owed_and_the_last_contact(
        db, sink):
    plan(db)
    send(db, sink)
    rows = calls(db, DAY)
    # 85 before 70; between the two 85s, 5000.00 before 1200.00
    assert [r["account"] for r in rows] == ["411RICH", "411HIGH", "411BIG"]
    big = rows[2]
    assert {k: big[k] for k in ("account", "phone", "risk_score", "open_amount", "level",
                                "invoices")} == {
        "account": "411BIG", "phone": "0102030405", "risk_score": 70, "open_amount": "4300.00",
        "level": 1, "invoices": ["FBIG1", "FBIG2"]}
    assert big["overdue_amount"] == "4300.00" and big["open_invoices"] == 2
    assert big["status"] == "open" and big["age_days"] == 0 and big["due_on"] == "2026-11-02"
    assert big["last_contact"] == {"on": "2026-11-02", "channel": "email", "level": 1}
    assert big["history"] == ["2026-11-02 level 1 sent by email"]


def test_an_agency_s_call_recalls_the_first_letter_s_date_and_reference(db, sink):
    """CPCE R124-4, last paragraph: every contact after the first letter recalls it."""
    plan(db)
    send(db, sink)
    with db.session() as session:
        rows = worklist(session, DAY, agency="Agence Centrale", creditor="Exemple SAS")
    big = next(r for r in rows if r["account"] == "411BIG")
    sent = next(m for m in sink.messages if m["X-Recouvrement-Debtor"] == "411BIG")
    ref = sent["Message-ID"].strip().strip("<>")
    assert big["first_letter"] == {"sent_on": "2026-11-02", "reference": ref}
    assert big["script"] == ("Agence Centrale, recouvrement amiable de créances, pour le compte "
                             f"de Exemple SAS. Suite à notre lettre du 02/11/2026, référence {ref}.")
    assert "script" not in calls(db, DAY)[0]  # the creditor's own service: no script


def test_an_unworked_task_is_carried_to_the_next_day_with_its_age_until_a_call_is_logged(db):
    plan(db, account="411HIGH")
    assert carry(db, DAY)["open"] == 1  # its own day: not carried
    nov_3 = carry(db, DAY + timedelta(days=1))
    assert (nov_3["open"], nov_3["carried"], nov_3["carried_today"]) == (0, 1, 1)
    assert nov_3["carried_tasks"] == [{"account": "411HIGH", "level": 1, "due_on": "2026-11-02",
                                       "age_days": 1}]
    nov_5 = carry(db, DAY + timedelta(days=3))
    assert (nov_5["carried"], nov_5["carried_today"]) == (1, 0)  # carried once, still waiting
    [row] = calls(db, DAY + timedelta(days=3))
    assert (row["status"], row["age_days"]) == ("carried", 3)
    assert len(events(db, "call.carried")) == 1

    log(db, "411HIGH", "no-answer", DAY + timedelta(days=3), note="ligne occupée")
    assert calls(db, DAY + timedelta(days=3)) == []
    assert tasks(db) == [("411HIGH", 1, "done", "no-answer")]
    [(account, details)] = events(db, "call.logged")
    assert account == "411HIGH" and details["outcome"] == "no-answer"
    assert details["note"] == "ligne occupée" and details["had_task"] is True
    assert calls(db, DAY + timedelta(days=4)) == []  # a worked task does not come back


def test_a_promise_on_the_phone_pauses_the_debtor_as_the_promise_command_does(db, sink):
    plan(db)
    send(db, sink)
    log(db, "411HIGH", "promise", until=date(2026, 11, 25), note="virement le 25")
    with db.session() as session:
        [promise] = session.scalars(select(Promise))
        assert promise.until == date(2026, 11, 25)
    assert [a for a, _ in events(db, "promise.recorded")] == ["411HIGH"]
    report = plan(db, LEVEL_2)
    planned = {p["account"] for p in report.planned}
    assert "411BIG" in planned and "411HIGH" not in planned  # the others climb, it waits
    assert {"account": "411HIGH", "reason": "promise to pay until 2026-11-25",
            "level": None} in report.skipped


def test_a_dispute_on_the_phone_stops_every_overdue_invoice_or_the_ones_named(db, sink):
    plan(db)
    send(db, sink)
    logged = log(db, "411BIG", "dispute", invoices=("FBIG2",), note="livraison incomplète")
    assert logged["invoices"] == ["FBIG2"]
    log(db, "411HIGH", "dispute")
    with db.session() as session:
        disputed = dict(session.execute(select(Invoice.number, Invoice.dispute_reason)
                                        .where(Invoice.disputed.is_(True))).all())
    assert disputed == {"FBIG2": "livraison incomplète", "FHIGH1": "contested on the phone"}
    assert sorted(s for _, s in events_subjects(db, "invoice.dispute_opened")) == ["FBIG2",
                                                                                   "FHIGH1"]
    report = plan(db, LEVEL_2)
    chased = {p["account"]: p["invoices"] for p in report.planned}
    assert chased["411BIG"] == ["FBIG1"]  # FBIG2 is no longer chased
    assert "411HIGH" not in chased


def events_subjects(db, kind):
    with db.session() as session:
        return session.execute(select(AuditEntry.account, AuditEntry.subject)
                               .where(AuditEntry.event == kind)).all()


def test_answered_and_voicemail_only_log_the_ladder_goes_on(db, sink):
    plan(db)
    send(db, sink)
    log(db, "411HIGH", "answered")
    log(db, "411RICH", "voicemail")
    assert {a for a, _, status, _ in tasks(db) if status == "done"} == {"411HIGH", "411RICH"}
    assert {p["account"] for p in plan(db, LEVEL_2).planned} >= {"411HIGH", "411RICH"}


def test_a_call_without_a_task_is_recorded_and_says_so(db):
    logged = log(db, "411LOW", "answered", note="a rappelé de lui-même")
    assert logged["had_task"] is False and logged["tasks"] == []
    assert tasks(db) == [("411LOW", 0, "done", "answered")]
    [(_, details)] = events(db, "call.logged")
    assert details["had_task"] is False


@pytest.mark.parametrize("outcome, kw, problem", [
    ("promise", {}, "a promise needs --until"),
    ("promise", {"until": date(2026, 10, 1)}, "the promised date 2026-10-01 is already past"),
    ("dispute", {"invoices": ("FLOW1",)}, "FLOW1: not an invoice of 411HIGH"),
    ("answered", {"until": date(2026, 11, 20)}, "--until is for a promise"),
])
def test_a_call_that_cannot_be_recorded_changes_nothing(db, outcome, kw, problem):
    plan(db, account="411HIGH")
    with pytest.raises(CallError, match=problem):
        log(db, "411HIGH", outcome, **kw)
    assert tasks(db) == [("411HIGH", 1, "open", None)] and events(db, "call.logged") == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Promise)) == 0
        assert session.scalar(select(func.count()).where(Invoice.disputed.is_(True))) == 0


def test_an_unknown_account_is_named(db):
    with pytest.raises(CallError, match="no debtor '411NOBODY'"):
        log(db, "411NOBODY", "answered")


def test_a_task_whose_debtor_paid_everything_leaves_the_worklist(db, tmp_path):
    plan(db, account="411HIGH")
    later = tmp_path / "later"
    later.mkdir()
    write_invoices(later, DAY + timedelta(days=1), [  # FHIGH1 is paid: no longer listed
        invoice(f"F{a[3:]}{n}", a, date(2026, 10, 1), amount)
        for a, (_, amounts) in DEBTORS.items() if a != "411HIGH"
        for n, amount in enumerate(amounts, 1)])
    with db.session() as session:
        ingest_inbox(session, later, actor="test", run_id=None, today=DAY + timedelta(days=1))
    assert carry(db, DAY + timedelta(days=1))["cancelled"] == 1
    assert tasks(db) == [("411HIGH", 1, "cancelled", None)]
    assert calls(db, DAY + timedelta(days=1)) == []
