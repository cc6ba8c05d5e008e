"""What the agency tells a creditor (CPCE R124-5): every payment it obtained, even
partial, and every proposal of the debtor to settle otherwise than by paying at once.

The events come from two places: the agency's payments (its database) and the creditor's
ledger audit log (promises to pay, payment plans, calls whose outcome is a promise, and
disputes, given as information). A payment of an instalment plan the creditor already
knows (a plan active in its ledger) is flagged so: R124-5 does not require it, the feed
still shows it.

The daily run mails the events not reported yet to the creditor's report recipients as
one digest. Each event is reported once, across reruns and crashes: the digest and its
events are claimed in one transaction of the agency's database (`agency_marks`) before
the mail goes; a digest left `sending` by a run that died is sent again, with the same
Message-ID, once its lease has passed.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sqlalchemy import select

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.db import lock
from recouvrement.adapters.db.agency_models import AgencyMark, AgencyPayment
from recouvrement.adapters.db.models import AuditEntry, Debtor
from recouvrement.domain.events import event_label
from recouvrement.adapters.mail.render import format_amount, format_date
from recouvrement.ingest.quarantine import neutralise

# The ledger's events that are a proposal of the debtor (or, for disputes, information).
PROPOSALS = {"promise.recorded": "promise", "plan.agreed": "plan",
             "call.logged": "promise", "invoice.dispute_opened": "dispute"}
COLUMNS = ["event", "date", "kind", "what", "account", "debtor", "invoices", "amount",
           "details", "known_plan", "reported"]
KIND_FR = {"payment": "paiement obtenu", "promise": "promesse de paiement",
           "plan": "demande d'échéancier", "dispute": "contestation (pour information)"}


def ledger_events(ledger, since: date | None = None) -> list[dict[str, Any]]:
    """The proposals of the creditor's debtors, from its audit log, oldest first."""
    names = dict(ledger.execute(select(Debtor.account, Debtor.name)).all())
    query = (select(AuditEntry).where(AuditEntry.event.in_(list(PROPOSALS)),
                                      AuditEntry.redacted_at.is_(None))
             .order_by(AuditEntry.id))
    rows, promised = [], set()
    for e in ledger.scalars(query):
        details = e.details or {}
        on = e.at.date() if isinstance(e.at, datetime) else date.fromisoformat(str(e.at)[:10])
        if since and on < since:
            continue
        if e.event == "call.logged":
            if details.get("outcome") != "promise":
                continue
            if (e.account, str(details.get("until"))) in promised:
                continue  # the promise it recorded is already in the feed
        if e.event == "promise.recorded":
            promised.add((e.account, str(details.get("until"))))
        kind = PROPOSALS[e.event]
        if e.event == "plan.agreed":
            what = (f"{len(details.get('instalments') or [])} échéance(s) pour "
                    f"{details.get('total')}: " + ", ".join(
                        f"{i['amount']} le {i['due']}" for i in details.get("instalments") or []))
            invoices, amount = details.get("invoices") or [], details.get("total")
        elif kind == "promise":
            what = f"paiement promis au plus tard le {details.get('until')}"
            if e.event == "call.logged":
                what += " (au téléphone)"
            invoices, amount = [], None
        else:
            what = f"motif : {details.get('reason') or '—'}"
            invoices, amount = [e.subject] if e.subject else [], None
        rows.append({"event": f"audit:{e.id}", "date": on.isoformat(), "kind": kind,
                     "what": f"{event_label(e.event)} — {what}", "account": e.account,
                     "debtor": names.get(e.account, ""), "invoices": invoices,
                     "amount": amount, "details": details, "known_plan": False})
    return rows


def payment_events(session, creditor: str, since: date | None = None) -> list[dict[str, Any]]:
    query = (select(AgencyPayment).where(AgencyPayment.creditor == creditor)
             .order_by(AgencyPayment.received_on, AgencyPayment.id))
    rows = []
    for p in session.scalars(query):
        if since and p.received_on < since:
            continue
        partial = " (partiel)" if p.remaining > 0 else ""
        rows.append({"event": f"payment:{p.receipt_number}", "date": p.received_on.isoformat(),
                     "kind": "payment",
                     "what": f"paiement reçu par l'agence{partial}, quittance {p.receipt_number}"
                             f", {p.method}; reste dû {p.remaining:.2f}",
                     "account": p.account, "debtor": "",
                     "invoices": [line["invoice"] for line in p.lines],
                     "amount": f"{p.amount:.2f}", "details": {"receipt": p.receipt_number},
                     "known_plan": p.under_plan})
    return rows


def feed_rows(ctx, since: date | None = None) -> list[dict[str, Any]]:
    """Every event of the creditor's feed, oldest first, with the day it was reported."""
    with ctx.ledger_db.session() as ledger:
        rows = ledger_events(ledger, since)
        names = dict(ledger.execute(select(Debtor.account, Debtor.name)).all())
    with ctx.agency_db.session() as session:
        rows += payment_events(session, ctx.record.code, since)
        marks = {m.key: m for m in session.scalars(select(AgencyMark).where(
            AgencyMark.creditor == ctx.record.code, AgencyMark.kind == "feed"))}
    for row in rows:
        row["debtor"] = row["debtor"] or names.get(row["account"], "")
        mark = marks.get(row["event"])
        row["reported"] = (mark.created_at.date().isoformat() if mark is not None else None)
    rows.sort(key=lambda r: (r["date"], r["event"].split(":")[0],
                             int(r["event"][6:]) if r["event"].startswith("audit:") else 0,
                             r["event"]))
    return rows


def feed_csv(rows: list[dict[str, Any]]) -> str:
    """`;` separated, every text cell neutralised against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r["event"], r["date"], r["kind"], neutralise(r["what"]),
                         neutralise(r["account"]), neutralise(r["debtor"]),
                         neutralise(",".join(r["invoices"])), r["amount"] or "",
                         neutralise(r["details"].get("reason") or r["details"].get("until")
                                    or r["details"].get("receipt") or ""),
                         "yes" if r["known_plan"] else "no", r["reported"] or ""])
    return out.getvalue()


def send_digest(ctx, today: date, *, lease_minutes: int = 15, actor: str) -> dict[str, Any]:
    """Mail the creditor the events not reported yet, once. The events it reported."""
    code = ctx.record.code
    recipients = list(ctx.record.report_recipients)
    if not recipients:
        return {"reported": 0, "why": "no report_recipients for this creditor"}
    rows = {r["event"]: r for r in feed_rows(ctx)}
    now = datetime.now(timezone.utc)
    with ctx.agency_db.session() as session:
        lock(session, f"agency-feed:{code}")
        digest = session.scalar(select(AgencyMark).where(
            AgencyMark.creditor == code, AgencyMark.kind == "digest",
            AgencyMark.status == "sending").order_by(AgencyMark.id))
        if digest is not None and _aware(digest.created_at) > now - timedelta(
                minutes=lease_minutes):
            return {"reported": 0, "why": "another run is sending this creditor's digest"}
        if digest is None:
            marked = set(session.scalars(select(AgencyMark.key).where(
                AgencyMark.creditor == code, AgencyMark.kind == "feed")))
            fresh = [key for key in rows if key not in marked]
            if not fresh:
                return {"reported": 0, "why": "nothing new"}
            count = len(list(session.scalars(select(AgencyMark.id).where(
                AgencyMark.creditor == code, AgencyMark.kind == "digest",
                AgencyMark.key.like(f"{today.isoformat()}#%")))))
            key = f"{today.isoformat()}#{count + 1}"
            domain = ctx.agency.sender.rpartition("@")[2] or "localhost"
            digest = AgencyMark(creditor=code, kind="digest", key=key, status="sending",
                                message_id=f"<feed.{code}.{key.replace('#', '.')}@{domain}>",
                                details={"events": fresh, "to": recipients}, created_at=now)
            session.add(digest)
            session.flush()
            for event in fresh:
                session.add(AgencyMark(creditor=code, kind="feed", key=event, status="sent",
                                       digest_id=digest.id, created_at=now))
        else:  # a dead run's digest: this run takes its lease, so no other resends it too
            digest.created_at = now
        digest_id, message_id = digest.id, digest.message_id
        events, key = list(digest.details["events"]), digest.key
        to = list(digest.details.get("to") or recipients)
    chosen = [rows[e] for e in events if e in rows]
    message = digest_message(ctx, chosen, to, message_id, today)
    with ctx.mailer() as mailer:
        mailer.send(message)
    with ctx.agency_db.session() as session:
        mark = session.get(AgencyMark, digest_id)
        mark.status, mark.done_at = "sent", datetime.now(timezone.utc)
        record(session, [Event("agency.feed_sent", None, f"digest:{code}:{key}",
                               {"creditor": code, "events": events, "to": to})], actor)
    return {"reported": len(events), "digest": key, "to": to}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def digest_message(ctx, rows: list[dict[str, Any]], to: list[str], message_id: str,
                   today: date) -> EmailMessage:
    creditor = ctx.record
    message = EmailMessage()
    message["Subject"] = (f"{creditor.name} : {len(rows)} information(s) de l'agence "
                          f"(art. R124-5 CPCE) — {format_date(today, 'fr')}")
    message["From"] = ctx.agency.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    lines = ["Bonjour,", "",
             f"Voici les paiements obtenus et les propositions des débiteurs reçus par "
             f"{ctx.agency.name} pour votre compte (mandat {creditor.mandate.reference}), "
             "conformément à l'article R124-5 du code des procédures civiles d'exécution.", ""]
    for r in rows:
        amount = f" — {format_amount(r['amount'], 'EUR', 'fr')}" if r["amount"] else ""
        plan = " [échéancier déjà connu]" if r["known_plan"] else ""
        invoices = f" ({', '.join(r['invoices'])})" if r["invoices"] else ""
        lines.append(f"- {format_date(date.fromisoformat(r['date']), 'fr')} · "
                     f"{KIND_FR[r['kind']]} · {r['debtor']} [{r['account']}]{invoices}"
                     f"{amount}{plan}: {r['what']}")
    lines += ["", "Le détail est joint (CSV).", "", ctx.agency.name]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(feed_csv(rows).encode("utf-8-sig"), maintype="text", subtype="csv",
                           filename=f"informations-{creditor.code}-{today.isoformat()}.csv")
    return message
