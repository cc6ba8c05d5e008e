"""R124-5: the creditor told of every payment and proposal, once; its report on its schedule."""

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest

from recouvrement.services.agency.feed import feed_csv, feed_rows, send_digest
from recouvrement.services.agency.obligations import after_creditor_run, report_period
from recouvrement.services.agency.payments import PaymentInput, record_payment
from recouvrement.adapters.pdf import FakePdfRenderer
from recouvrement.queries.reports import add_plan, add_promise, set_dispute
from tests.agency_builders import add_debtor, register_agency
from tests.conftest import BACKENDS


def with_events():
    settings, creditors = register_agency()
    ctx = creditors["atelier-nord"]
    add_debtor(ctx.ledger_db, "411DUPONT", [("F1", date(2026, 9, 10), "1000.00"),
                                            ("F2", date(2026, 10, 10), "400.00")])
    add_debtor(ctx.ledger_db, "411MARTIN", [("F3", date(2026, 9, 20), "300.00")],
               name="=HYPERLINK(\"http://x\")", email=None)
    record_payment(ctx.agency_db, ctx.ledger_db, ctx.record, ctx.agency,
                   PaymentInput("411DUPONT", D("250.00"), date(2026, 11, 2), "transfer", "V1"),
                   actor="t", today=date(2026, 11, 30), renderer=FakePdfRenderer())
    with ctx.ledger_db.session() as session:
        assert add_promise(session, "411DUPONT", date(2026, 12, 15), today=date(2026, 11, 30)) is None
        assert set_dispute(session, "F3", reason="=1+1 livraison incomplète") is None
    return settings, ctx


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_partial_payment_and_the_proposals_are_reported_once(home, database_url, sink):
    settings, ctx = with_events()
    rows = feed_rows(ctx)
    assert [(r["kind"], r["account"], r["amount"]) for r in rows] == [
        ("payment", "411DUPONT", "250.00"), ("promise", "411DUPONT", None),
        ("dispute", "411MARTIN", None)]
    payment = next(r for r in rows if r["kind"] == "payment")
    assert "partiel" in payment["what"] and payment["invoices"] == ["F1"]
    assert "reste dû 1150.00" in payment["what"] and payment["reported"] is None
    # The CSV: a cell a spreadsheet would run as a formula is quoted.
    table = list(csv.reader(io.StringIO(feed_csv(rows)), delimiter=";"))
    dispute = next(line for line in table if line[2] == "dispute")
    assert dispute[5] == "'=HYPERLINK(\"http://x\")" and dispute[8].startswith("'=1+1")

    first = send_digest(ctx, date(2026, 11, 30), actor="t")
    assert first["reported"] == 3 and first["to"] == ["compta@atelier-nord.example.com"]
    assert send_digest(ctx, date(2026, 11, 30), actor="t") == {"reported": 0,
                                                                "why": "nothing new"}
    [mail] = sink.wait_for(1)
    body = mail.get_body(("plain",)).get_content()
    assert "R124-5" in mail["Subject"] and "paiement obtenu" in body and "250,00" in body
    assert "promesse de paiement" in body and "contestation" in body
    assert all(r["reported"] == date.today().isoformat() for r in feed_rows(ctx))
    # A new proposal: only it goes in the next digest.
    with ctx.ledger_db.session() as session:
        error, _ = add_plan(session, "411MARTIN", instalments=3, first=date(2026, 12, 10),
                            every_days=30, grace_days=5)
        assert error is None
    second = send_digest(ctx, date(2026, 12, 1), actor="t")
    assert second["reported"] == 1
    assert len(sink.wait_for(2)) == 2


def test_a_digest_left_sending_by_a_dead_run_goes_again_with_the_same_message_id(home, sink):
    from sqlalchemy import select

    from recouvrement.adapters.db.agency_models import AgencyMark

    settings, ctx = with_events()

    class Dies(Exception):
        pass

    class DyingMailer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send(self, message):
            raise Dies()

    dying = type(ctx)(**{**ctx.__dict__})
    object.__setattr__(dying, "mailer", lambda: DyingMailer())
    with pytest.raises(Dies):
        send_digest(dying, date(2026, 11, 30), actor="t")
    # Within its lease another run leaves it; past it, it is sent, once, with its Message-ID.
    assert send_digest(ctx, date(2026, 11, 30), actor="t")["why"].startswith("another run")
    resent = send_digest(ctx, date(2026, 11, 30), lease_minutes=0, actor="t")
    assert resent["reported"] == 3
    with ctx.agency_db.session() as session:
        digest = session.scalar(select(AgencyMark).where(AgencyMark.kind == "digest"))
        assert digest.status == "sent"
    [mail] = sink.wait_for(1)
    assert mail["Message-ID"] == digest.message_id
    assert send_digest(ctx, date(2026, 11, 30), lease_minutes=0, actor="t")["reported"] == 0


@pytest.mark.parametrize("every, today, period", [
    ("monthly", date(2026, 12, 1), "2026-12"),  # Tuesday 1 December: the first business day
    ("monthly", date(2026, 11, 1), None),  # Sunday; 1 Nov is a holiday too; Monday 2nd is it
    ("monthly", date(2026, 11, 2), "2026-11"),
    ("weekly", date(2026, 12, 7), "2026-W50"),
    ("weekly", date(2026, 12, 6), "2026-W49"),  # Sunday: still the week begun on Monday
    ("weekly", date(2026, 12, 28), "2026-W53"),
    (None, date(2026, 12, 1), None),
])
def test_report_period(every, today, period):
    assert report_period(every, today) == period


def test_the_creditors_report_is_mailed_once_per_period_over_two_runs(home, sink):
    settings, ctx = with_events()
    first = after_creditor_run(settings, ctx.record, date(2026, 12, 1), ctx=ctx)
    assert first["report"]["sent"] and first["report"]["period"] == "2026-12"
    assert first["feed"]["reported"] == 3
    second = after_creditor_run(settings, ctx.record, date(2026, 12, 2), ctx=ctx)
    assert second["report"] == {"sent": False, "why": "already sent for 2026-12"}
    assert second["feed"]["reported"] == 0
    mails = sink.wait_for(2)
    assert len(mails) == 2
    report = next(m for m in mails if "R124-5" not in m["Subject"])
    assert report["To"] == "compta@atelier-nord.example.com"
    assert report["Subject"].startswith("Atelier du Nord SAS — ")
    assert [p.get_filename() for p in report.iter_attachments()][0].endswith(".html")
    text = " ".join(report.get_body(("plain",)).get_content().replace("\u202f", " ").split())
    assert "250,00 € encaissés depuis le 02/11/2026" in text and "R124-6" in text
    # The funds received on 2 November are on no remittance and due back by 2 December.
    assert any("remittance make --period 2026-11" in w for w in first["warnings"])


def test_an_overdue_remittance_is_a_warning_of_the_run_and_of_the_report(home, sink):
    from recouvrement.services.agency.obligations import remittance_lines
    from recouvrement.services.agency.remittances import make_remittance

    settings, ctx = with_events()  # 250.00 received; 12.5 % (over the 15.00 minimum): 31.25
    make_remittance(ctx.agency_db, ctx.record, ctx.agency, period_from=date(2026, 11, 1),
                    period_to=date(2026, 11, 30), today=date(2026, 11, 30), actor="t",
                    renderer=FakePdfRenderer())
    on_time = after_creditor_run(settings, ctx.record, date(2026, 12, 2), ctx=ctx)
    assert not any("is not paid" in w for w in on_time["warnings"])
    late = after_creditor_run(settings, ctx.record, date(2026, 12, 3), ctx=ctx)
    assert ("remittance R2026-0001 to atelier-nord (218.75) was due by 2026-12-02 and is not "
            "paid (R124-6)") in late["warnings"]
    text = " ".join(remittance_lines(ctx, date(2026, 12, 3)).replace("\u202f", " ").split())
    assert "reversement R2026-0001 : 218,75 € net à reverser au plus tard le 02/12/2026 — EN RETARD" in text
