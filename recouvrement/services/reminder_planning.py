"""Decide each debtor's reminder and record it in the outbox, in one transaction.

The outbox row is keyed by what it decides (debtor, level, the invoices it
takes to that level): a second run that reaches the same decision, at the
same time or later, finds the key taken and adds nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.services.calls import create_call_task
from recouvrement.domain.events import EventKind
from recouvrement.adapters.channels.sms_text import render_sms
from recouvrement.adapters.db.models import Reminder, ReminderDelivery, ReminderItem
from recouvrement.domain.identity import first_contact, first_letter
from recouvrement.domain.ladder import SEND, SKIP, Decision, decide
from recouvrement.domain.legal import fee_lost_to_proceedings, fixed_recovery_fee, invoice_claim
from recouvrement.domain.model import DebtorKind
from recouvrement.domain.pauses import BROKEN, HONOURED
from recouvrement.domain.policy import Level, Policy
from recouvrement.adapters.ledger import (DebtorState, debtor_ids_with_open_invoices, load_states,
                                 lock_debtors)
from recouvrement.adapters.mail.render import (Creditor, InvoiceRow, RenderedReminder, build_email,
                                      language_of, make_message_id, render_reminder, wire_form)
from recouvrement.adapters.shards import Shard


@dataclass
class PlanReport:
    planned: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    nothing_due: int = 0
    reasons: Counter = field(default_factory=Counter)
    # why nothing was sent to the others, and what the credit manager should know
    nothing: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)  # plans broken or completed


def reminder_key(account: str, level: int, advances: dict[str, int]) -> str:
    text = "|".join([account, str(level), *(f"{n}>{l}" for n, l in sorted(advances.items()))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_reminders(session: Session, *, today: date, policy: Policy, creditor: Creditor,
                   actor: str, run_id: str | None, account: str | None = None,
                   templates: list | None = None, shard: Shard | None = None,
                   progress: Callable[[int, int], None] | None = None) -> PlanReport:
    """Decide for each debtor with open invoices; `progress(done, total)` as it goes."""
    lock_debtors(session, account, shard)  # never two runs deciding on the same state
    report = PlanReport()
    events: list[Event] = []
    ids = debtor_ids_with_open_invoices(session, account, shard)
    for done, state in enumerate(load_states(session, ids, today), 1):
        if progress is not None:
            progress(done, len(ids))
        events += _settle_plans(session, state, today, report)
        own = policy.for_debtor(state.debtor, state.open_amount)
        decision = decide(state.debtor, state.invoices, today=today, policy=own,
                          last_contact=state.last_contact, pending=state.pending)
        account_ = state.debtor.account
        report.notes += [{"account": account_, "note": note} for note in decision.notes]
        details = {"reason": decision.reason, "level": decision.level, "policy": own.name,
                   **({"notes": list(decision.notes)} if decision.notes else {})}
        if decision.action == SEND:
            planned = _plan(session, state, decision, own, today=today, creditor=creditor,
                            run_id=run_id, templates=templates)
            if planned is not None:
                report.planned.append(planned)
                events.append(Event(EventKind.REMINDER_PLANNED, account_, planned["key"],
                                    {**details, "invoices": planned["invoices"],
                                     "advances": planned["advances"]}))
                if planned.get("call_task") is not None:
                    events.append(Event("call.task_created", account_,
                                        f"call:{planned['call_task']}",
                                        {"level": planned["level"], "reminder": planned["key"]}))
        elif decision.action == SKIP:
            report.skipped.append({"account": account_, "reason": decision.reason,
                                   "level": decision.level})
            report.reasons[decision.reason.split(":")[0]] += 1
            events.append(Event(EventKind.SKIPPED, account_, details=details))
        else:
            report.nothing_due += 1
            report.nothing.append({"account": account_, "reason": decision.reason})
            events.append(Event(EventKind.NOTHING_DUE, account_, details=details))
    record(session, events, actor)
    return report


def _settle_plans(session: Session, state: DebtorState, today: date, report: PlanReport) -> list[Event]:
    """Record the plans that were broken or completed; a broken one is flagged."""
    events = []
    for plan, outcome in state.plans:
        if outcome.state == HONOURED:
            continue
        plan.status, plan.status_on = outcome.state, today
        report.plans.append({"account": state.debtor.account, "plan": plan.id,
                             "state": outcome.state, "reason": outcome.reason})
        events.append(Event(f"plan.{outcome.state}", state.debtor.account, f"plan:{plan.id}",
                            {"reason": outcome.reason, "flag": outcome.state == BROKEN}))
    return events


def invoice_rows(state: DebtorState, numbers: tuple[str, ...], today: date, *,
                 with_claim: bool, policy: Policy, formal_notice: bool = True) -> list[InvoiceRow]:
    """The rows a reminder lists; interest and fees only on a formal notice.

    A consumer's interest runs from the formal notice (C. civ. 1231-6): today's,
    when this reminder is the formal notice (`formal_notice`), else the one the
    invoice was sent, if any.
    """
    rows = []
    debtor = state.debtor
    for invoice in state.invoices:
        if invoice.number not in numbers:
            continue
        interest = fee = None
        if with_claim:
            notice_on = (today if formal_notice
                         else invoice.sent_levels.get(policy.formal_notice_level))
            claim = invoice_claim(invoice, debtor, today, formal_notice_on=notice_on,
                                  contractual_rate=policy.contractual_rate_for(debtor))
            # Interest first, then principal (C. civ. 1343-1): the principal the
            # notice claims can be more than the ledger's open amount.
            interest = claim.total + claim.remaining_principal - invoice.open_amount
            fee = fixed_recovery_fee(debtor.kind, 1, collective_proceedings=fee_lost_to_proceedings(
                invoice.due_date, invoice.issue_date, debtor.collective_proceedings_since))
        rows.append(InvoiceRow(
            number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date,
            amount=invoice.amount, open_amount=invoice.open_amount, currency=invoice.currency,
            days_late=max((today - invoice.due_date).days, 0), interest=interest, fixed_fee=fee,
            set_off=invoice.set_off or None))
    return rows


def _plan(session: Session, state: DebtorState, decision: Decision, policy: Policy, *,
          today: date, creditor: Creditor, run_id: str | None, templates) -> dict[str, Any] | None:
    account = state.debtor.account
    key = reminder_key(account, decision.level, decision.advances)
    if session.scalar(select(Reminder.id).where(Reminder.key == key)) is not None:
        return None  # decided before, by this run's twin or an earlier one
    step = policy.level(decision.level)  # what this level is, as the policy says
    formal_notice = step.is_formal_notice
    deadline = today + timedelta(days=policy.litigation_after_days) if formal_notice else None
    message_id = make_message_id(f"{creditor.code}|{key}" if creditor.code else key,
                                 creditor.sender.rsplit("@", 1)[-1])
    content = dict(level=decision.level, debtor=state.debtor, message_id=message_id,
                   # The first letter about these invoices, recalled by each later one (R124-4).
                   first_letter=first_letter(state.sent, decision.listed),
                   first_contact=first_contact(state.sent),
                   # An agency states principal, interest and fees at every level (R124-4).
                   invoices=invoice_rows(state, decision.listed, today,
                                         with_claim=formal_notice or bool(creditor.agency),
                                         policy=policy, formal_notice=formal_notice),
                   as_of=today, creditor=creditor, deadline=deadline, templates_dir=templates,
                   template=step.template, formal_notice=formal_notice,
                   registered=step.registered)
    rendered = render_reminder(**content)
    # The letter is kept for every reminder: sent by post when the policy says
    # so, and instead of an e-mail the relay refuses for good.
    letter = render_reminder(**content, letter=True)
    reminder_id = session.scalar(insert(Reminder).returning(Reminder.id), {
        "key": key, "debtor_id": state.id, "level": decision.level,
        "channel": ",".join(decision.channels),
        "invoice_numbers": list(decision.listed), "planned_on": today,
        "message_id": message_id, "recipient": state.debtor.email,
        "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
        "mime": _wire(rendered, decision, state, creditor, message_id),
        "letter_html": letter.html,
        "status": "planned", "attempts": 0, "created_at": datetime.now(timezone.utc),
        "run_id": run_id})
    session.execute(insert(ReminderItem), [
        {"reminder_id": reminder_id, "invoice_id": state.invoice_ids[number],
         "level": decision.advances.get(number)} for number in decision.listed])
    # The collector's call, made with its reminder: once, as the reminder is.
    call_task = create_call_task(session, reminder_id=reminder_id, debtor_id=state.id,
                                 level=decision.level, today=today) \
        if "phone" in decision.channels else None
    total = sum((i.open_amount for i in state.invoices if i.number in decision.listed), Decimal(0))
    session.execute(insert(ReminderDelivery), [
        _delivery(reminder_id, channel, call_task, state, decision, step, total,
                  creditor=creditor, deadline=deadline, templates=templates)
        for channel in dict.fromkeys(decision.channels)])
    return {"key": key, "call_task": call_task, "account": account, "level": decision.level,
            "invoices": list(decision.listed), "advances": decision.advances,
            "open_amount": total, "reason": decision.reason,
            "kind": DebtorKind(state.debtor.kind).value}


def _wire(rendered: RenderedReminder, decision: Decision, state: DebtorState, creditor: Creditor,
          message_id: str) -> bytes | None:
    """The e-mail as the relay will receive it, built once now rather than at each attempt.

    None when it is built at sending time instead: a letter goes with it (its PDF
    is attached then), or the address cannot be used (the send fails, or turns
    into a letter, and says why).
    """
    if "email" not in decision.channels or "letter" in decision.channels or not state.debtor.email:
        return None
    try:
        return wire_form(build_email(rendered, sender=creditor.sender, to=state.debtor.email,
                                     debtor_account=state.debtor.account, level=decision.level,
                                     invoice_numbers=decision.listed, message_id=message_id))
    except ValueError:
        return None


def _delivery(reminder_id: int, channel: str, call_task: int | None, state: DebtorState,
              decision: Decision, step: Level, total: Decimal, *, creditor: Creditor,
              deadline: date | None, templates) -> dict[str, Any]:
    """The reminder's delivery by `channel`, as planned: the phone task is made already;
    an SMS carries its text, fixed now like the e-mail's, so a retry sends the same."""
    row: dict[str, Any] = {"reminder_id": reminder_id, "channel": channel, "status": "planned",
                           "attempts": 0, "payload": None, "proof": None, "sent_at": None}
    if channel == "phone" and call_task is not None:
        row.update(status="sent", proof=f"call:{call_task}",
                   sent_at=datetime.now(timezone.utc))
    elif channel == "sms":
        listed = [i for i in state.invoices if i.number in decision.listed]
        currencies = {i.currency for i in listed}
        row["payload"] = {"text": render_sms(
            kind=step.kind, language=language_of(state.debtor), creditor=creditor,
            amount=total, currency=currencies.pop() if len(currencies) == 1 else "EUR",
            count=len(listed), consumer=DebtorKind(state.debtor.kind) is DebtorKind.B2C,
            due=min((i.due_date for i in listed), default=None), deadline=deadline,
            stop_number=creditor.sms_stop_number,
            templates_dir=templates)}
    return row
