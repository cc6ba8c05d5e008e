"""What the agency owes a creditor at the end of each daily run over its ledger.

`after_creditor_run` is the one call the daily run makes per creditor, after that
creditor's reminders: it brings the agency's payments into the ledger (and sees which the
creditor has booked), mails the R124-5 digest, the KPI report when the creditor's
schedule says it is due (weekly: from the first business day of the week; monthly: from
the first business day of the month; once per period), and warns about remittances
overdue or soon due (R124-6). Every mail goes once: marks in the agency's database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from recouvrement.services.agency.feed import send_digest
from recouvrement.services.agency.money import money_context
from recouvrement.services.agency.payments import book_holds, resend_receipts, sync_ledger
from recouvrement.services.agency.remittances import overdue_remittances, unremitted
from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import lock
from recouvrement.adapters.db.agency_models import AgencyMark
from recouvrement.domain.agency import remit_by
from recouvrement.domain.calendar import next_business_day_on_or_after
from recouvrement.adapters.mail.mailer import SendError

# Funds not on a statement yet whose due date is this close get a warning.
REMIT_WARNING_DAYS = 7


def report_period(every: str | None, today: date) -> str | None:
    """The period whose report is due on `today` (`2026-W49`, `2026-12`), or None: from
    the first business day of the week (month) on, until the period ends."""
    if every == "weekly":
        monday = today - timedelta(days=today.weekday())
        first = next_business_day_on_or_after(monday)
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d}" if first <= today else None
    if every == "monthly":
        first = next_business_day_on_or_after(today.replace(day=1))
        return f"{today:%Y-%m}" if first <= today else None
    return None


def after_creditor_run(agency_settings, record, today: date, *, actor: str = "agency",
                       ctx=None) -> dict[str, Any]:
    """The creditor's end-of-run obligations; a summary with its warnings."""
    ctx = ctx or money_context(agency_settings, record.code, record)
    summary: dict[str, Any] = {"creditor": record.code, "warnings": []}
    summary["payments_synced"] = sync_ledger(ctx.agency_db, ctx.ledger_db, record.code,
                                             actor=actor)
    summary["payments_booked"] = book_holds(ctx.ledger_db, today, actor=actor)
    lease = agency_settings.sending_lease_minutes
    try:
        summary["receipts_resent"] = resend_receipts(ctx.agency_db, ctx.agency, record,
                                                     ctx.mailer, lease_minutes=lease, actor=actor)
    except SendError as exc:
        summary["warnings"].append(f"receipts of {record.code} not sent ({exc}); the next run "
                                   "sends them")
    for name, send in (("feed", send_digest), ("report", send_report)):
        try:
            summary[name] = send(ctx, today, lease_minutes=lease, actor=actor)
        except SendError as exc:  # the relay's trouble: the next run sends it, once
            summary[name] = {"error": str(exc)}
            summary["warnings"].append(f"the {name} of {record.code} was not sent ({exc}); "
                                       "the next run sends it")
    with ctx.agency_db.session() as session:
        for r in overdue_remittances(session, today, record.code):
            summary["warnings"].append(
                f"remittance {r['number']} to {record.code} ({r['net']}) was due by "
                f"{r['due_on']} and is not paid (R124-6)")
        held = unremitted(session, record.code, today)
    if held["oldest"]:
        due = remit_by(date.fromisoformat(held["oldest"]), record.mandate.remit_within_days)
        summary["unremitted"] = {**held, "due_by": due.isoformat()}
        if due - timedelta(days=REMIT_WARNING_DAYS) <= today:
            summary["warnings"].append(
                f"{held['amount']} received for {record.code} since {held['oldest']} is on no "
                f"remittance yet and is due back by {due.isoformat()}: recouvrement --creditor "
                f"{record.code} remittance make --period {held['oldest'][:7]}")
    return summary


def send_report(ctx, today: date, *, lease_minutes: int, actor: str) -> dict[str, Any]:
    """The creditor's KPI report (its ledger only), mailed once per period of its schedule."""
    code = ctx.record.code
    period = report_period(ctx.record.report_every, today)
    recipients = list(ctx.record.report_recipients)
    if period is None:
        return {"sent": False, "why": "not due" if ctx.record.report_every else "no schedule"}
    if not recipients:
        return {"sent": False, "why": "no report_recipients"}
    now = datetime.now(timezone.utc)
    with ctx.agency_db.session() as session:
        lock(session, f"agency-report:{code}")
        mark = session.scalar(select(AgencyMark).where(
            AgencyMark.creditor == code, AgencyMark.kind == "report", AgencyMark.key == period))
        if mark is not None and mark.status == "sent":
            return {"sent": False, "why": f"already sent for {period}"}
        created = mark.created_at if mark is not None else None
        if created is not None and (created if created.tzinfo else created.replace(
                tzinfo=timezone.utc)) > now - timedelta(minutes=lease_minutes):
            return {"sent": False, "why": "another run is sending it"}
        domain = ctx.agency.sender.rpartition("@")[2] or "localhost"
        message_id = f"<report.{code}.{period}@{domain}>"
        if mark is None:
            session.add(AgencyMark(creditor=code, kind="report", key=period, status="sending",
                                   message_id=message_id, details={"to": recipients},
                                   created_at=now))
        else:
            mark.created_at = now  # a new lease for this try
    message, files = report_message(ctx, today, recipients, message_id)
    with ctx.mailer() as mailer:
        mailer.send(message)
    with ctx.agency_db.session() as session:
        mark = session.scalar(select(AgencyMark).where(
            AgencyMark.creditor == code, AgencyMark.kind == "report", AgencyMark.key == period))
        mark.status, mark.done_at = "sent", datetime.now(timezone.utc)
        record(session, [Event("agency.report_sent", None, f"report:{code}:{period}",
                               {"creditor": code, "period": period, "to": recipients,
                                "files": files})], actor)
    return {"sent": True, "period": period, "to": recipients, "files": files}


def report_message(ctx, today: date, recipients: list[str], message_id: str):
    """The report of the creditor's ledger as of today, written in its home, as a mail."""
    from recouvrement.context import _policy
    from recouvrement.queries.dashboard import (compute_report, default_start, report_email,
                                        report_path, write_report)

    settings = ctx.ledger_settings
    with ctx.ledger_db.session() as session:
        report = compute_report(session, _policy(settings.policy), as_of=today,
                                start=default_start(today))
    html = write_report(report, report_path(settings.home, today), settings.report_language)
    message = report_email(report, [html], sender=ctx.agency.sender, recipients=recipients,
                           language=settings.report_language)
    del message["Message-ID"]
    message["Message-ID"] = message_id
    subject = message["Subject"]
    del message["Subject"]
    message["Subject"] = f"{ctx.record.name} — {subject}"
    body = message.get_body(("plain",))
    body.set_content(body.get_content() + remittance_lines(ctx, today))
    return message, [str(html)]


def remittance_lines(ctx, today: date) -> str:
    """The report's word on the funds the agency holds for the creditor (R124-6)."""
    from recouvrement.services.agency.remittances import list_remittances
    from recouvrement.adapters.mail.render import format_amount, format_date

    def eur(value: str) -> str:
        return format_amount(value, "EUR", "fr")

    with ctx.agency_db.session() as session:
        rows = [r for r in list_remittances(session, today, ctx.record.code)
                if r["status"] == "open"]
        held = unremitted(session, ctx.record.code, today)
    lines = ["", "Fonds détenus par l'agence pour votre compte (art. R124-6 CPCE) :"]
    for r in rows:
        late = " — EN RETARD" if r["overdue"] else ""
        lines.append(f"- reversement {r['number']} : {eur(r['net'])} net à reverser au plus "
                     f"tard le {format_date(date.fromisoformat(r['due_on']), 'fr')}{late}")
    if held["oldest"]:
        lines.append(f"- {eur(held['amount'])} encaissés depuis le "
                     f"{format_date(date.fromisoformat(held['oldest']), 'fr')}, "
                     "à porter sur le prochain relevé de reversement")
    if len(lines) == 2:
        lines.append("- aucun")
    return "\n".join(lines) + "\n"
