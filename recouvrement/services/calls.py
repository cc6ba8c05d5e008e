"""Phone tasks in the ledger: made with their reminder, carried until worked, logged by a collector.

A task is made in the transaction that plans the reminder whose channels
include `phone`, keyed by that reminder: a rerun, a retry or a second run
that finds the reminder planned finds its task too, and makes none.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, current_actor, record
from recouvrement.adapters.db.models import CallTask, Debtor, Invoice, Promise, Reminder, ReminderItem
from recouvrement.queries.deliveries import channels_of
from recouvrement.domain.calls import (CANCELLED, CARRIED, DONE, OPEN, OUTCOMES, TO_WORK, WorkItem,
                                       age_days, outcome_problem, to_carry, worklist_order)
from recouvrement.domain.identity import SentLetter, call_opening, first_letter, reference
from recouvrement.queries.reports import add_promise, risk_reasons, set_dispute, unknown_debtor
from recouvrement.adapters.shards import Shard, narrow

HISTORY = 5  # entries of a debtor's history the worklist shows, newest first


class CallError(ValueError):
    """A logged call that cannot be recorded as asked (exit 2); nothing was changed."""


def create_call_task(session: Session, *, reminder_id: int, debtor_id: int, level: int,
                     today: date) -> int:
    """The phone task of a reminder just planned, due the same day."""
    return session.scalar(insert(CallTask).returning(CallTask.id), {
        "debtor_id": debtor_id, "reminder_id": reminder_id, "level": level, "created_on": today,
        "due_on": today, "status": OPEN})


def carry_call_tasks(session: Session, *, today: date, actor: str, account: str | None = None,
                     shard: Shard | None = None) -> dict[str, Any]:
    """Carry the tasks not worked on their day; cancel those with nothing left to chase.

    A task is cancelled when its reminder was (what it chased was paid or
    disputed before it went out) or when its debtor owes nothing left to chase
    (everything paid, or in litigation).
    """
    rows = session.execute(narrow(
        select(CallTask, Debtor.account, Reminder.status)
        .join(Debtor, Debtor.id == CallTask.debtor_id)
        .outerjoin(Reminder, Reminder.id == CallTask.reminder_id)
        .where(CallTask.status.in_(TO_WORK), CallTask.due_on <= today), account, shard)).all()
    owing = set(session.scalars(select(Invoice.debtor_id).where(
        Invoice.debtor_id.in_({task.debtor_id for task, _, _ in rows}), Invoice.status == "open",
        Invoice.open_amount > 0, Invoice.dossier_id.is_(None)).distinct()))
    events: list[Event] = []
    counts: dict[str, Any] = {"open": 0, "carried": 0, "carried_today": 0, "cancelled": 0,
                              "carried_tasks": []}
    for task, account_, reminder_status in rows:
        if reminder_status == "cancelled" or task.debtor_id not in owing:
            task.status, task.worked_on = CANCELLED, today
            counts["cancelled"] += 1
            why = ("its reminder was cancelled" if reminder_status == "cancelled"
                   else "nothing left to chase: paid, or in litigation")
            events.append(Event("call.cancelled", account_, f"call:{task.id}", {"why": why}))
            continue
        if to_carry(task.status, task.due_on, today):
            task.status = CARRIED
            counts["carried_today"] += 1
            events.append(Event("call.carried", account_, f"call:{task.id}",
                                {"due_on": task.due_on, "to": today}))
        if task.status == CARRIED:
            counts["carried"] += 1
            counts["carried_tasks"].append({  # accounts only: the artifact names no one
                "account": account_, "level": task.level, "due_on": task.due_on.isoformat(),
                "age_days": age_days(task.due_on, today)})
        else:
            counts["open"] += 1
    record(session, events, actor)
    return counts


def worklist(session: Session, today: date, *, agency: str | None = None,
             creditor: str | None = None) -> list[dict[str, Any]]:
    """The calls to make on `today`, one row per debtor, riskiest and largest first.

    Each row names the first letter sent about the invoices to chase; for an agency
    (`agency`, writing for `creditor`) a `script`: what the collector says first."""
    tasks = session.execute(
        select(CallTask, Debtor).join(Debtor, Debtor.id == CallTask.debtor_id)
        .where(CallTask.status.in_(TO_WORK), CallTask.due_on <= today)
        .order_by(CallTask.due_on, CallTask.id)).all()
    by_debtor: dict[int, list[CallTask]] = defaultdict(list)
    debtors: dict[int, Debtor] = {}
    for task, debtor in tasks:
        by_debtor[debtor.id].append(task)
        debtors[debtor.id] = debtor
    ids = list(debtors)
    owed = {debtor_id: (amount or Decimal(0), overdue or Decimal(0), count)
            for debtor_id, amount, overdue, count in session.execute(
                select(Invoice.debtor_id, func.sum(Invoice.open_amount),
                       func.sum(Invoice.open_amount).filter(Invoice.due_date < today),
                       func.count(Invoice.id))
                .where(Invoice.debtor_id.in_(ids), Invoice.status == "open")
                .group_by(Invoice.debtor_id))}
    chased = _chased_invoices(session, [t.reminder_id for ts in by_debtor.values() for t in ts])
    history = _history(session, ids, today)
    letters = _sent_letters(session, ids, today)
    rows = []
    for debtor_id, debtor_tasks in by_debtor.items():
        debtor = debtors[debtor_id]
        amount, overdue, count = owed.get(debtor_id, (Decimal(0), Decimal(0), 0))
        oldest = debtor_tasks[0]
        past = history.get(debtor_id, [])
        # A promise is a pause, not a contact: the last contact is a reminder or a call.
        last = next((h for h in past if "channel" in h), None)
        chasing = sorted({n for t in debtor_tasks for n in chased.get(t.reminder_id, [])})
        first = first_letter(letters.get(debtor_id, []), chasing)
        rows.append({
            "account": debtor.account, "name": debtor.name, "phone": debtor.phone or "",
            "risk_score": debtor.risk_score, "open_amount": amount,
            "risk_factors": risk_reasons(debtor.risk_factors),
            "level": max(t.level for t in debtor_tasks),
            "invoices": chasing,
            "first_letter": None if first is None else {
                "sent_on": first.sent_on.isoformat(), "reference": reference(first.message_id)},
            **({} if not agency else {"script": call_opening(agency, creditor or "", first)}),
            "overdue_amount": overdue, "open_invoices": count,
            "status": CARRIED if any(t.status == CARRIED or t.due_on < today
                                     for t in debtor_tasks) else OPEN,
            "due_on": oldest.due_on.isoformat(), "age_days": age_days(oldest.due_on, today),
            "tasks": [t.id for t in debtor_tasks],
            "last_contact": None if last is None else {
                "on": last["on"], "channel": last["channel"], "level": last["level"]},
            "history": [h["text"] for h in past[:HISTORY]]})
    rows = worklist_order(rows, lambda r: WorkItem(r["account"], r["risk_score"],
                                                   r["open_amount"]))
    return [{**r, "open_amount": f"{r['open_amount']:.2f}",
             "overdue_amount": f"{r['overdue_amount']:.2f}"} for r in rows]


def _sent_letters(session: Session, ids: list[int], today: date) -> dict[int, list[SentLetter]]:
    letters: dict[int, list[SentLetter]] = defaultdict(list)
    for debtor_id, sent_on, message_id, numbers in session.execute(
            select(Reminder.debtor_id, Reminder.sent_on, Reminder.message_id,
                   Reminder.invoice_numbers)
            .where(Reminder.debtor_id.in_(ids), Reminder.status == "sent",
                   Reminder.sent_on.is_not(None), Reminder.sent_on <= today)
            .order_by(Reminder.sent_on, Reminder.id)):
        letters[debtor_id].append(SentLetter(sent_on, message_id, tuple(numbers or ())))
    return letters


def _chased_invoices(session: Session, reminder_ids: list[int | None]) -> dict[int, list[str]]:
    ids = [i for i in reminder_ids if i is not None]
    return dict(session.execute(select(Reminder.id, Reminder.invoice_numbers)
                                .where(Reminder.id.in_(ids))).all())


def _history(session: Session, ids: list[int], today: date) -> dict[int, list[dict[str, Any]]]:
    """Each debtor's contacts and pauses up to `today`, newest first: reminders sent,
    calls logged, promises recorded."""
    items: dict[int, list[tuple[date, int, dict[str, Any]]]] = defaultdict(list)
    sent = session.execute(
        select(Reminder.id, Reminder.debtor_id, Reminder.sent_on, Reminder.level)
        .where(Reminder.debtor_id.in_(ids), Reminder.status == "sent",
               Reminder.sent_on <= today)).all()
    channels = channels_of(session, [r.id for r in sent])
    for reminder_id, debtor_id, sent_on, level in sent:
        # `phone` among a reminder's channels is the task it made, not a way it went out.
        went = [c for c in channels.get(reminder_id, []) if c != "phone"]
        items[debtor_id].append((sent_on, 1, {
            "on": sent_on.isoformat(), "channel": ",".join(went), "level": level,
            "text": f"{sent_on.isoformat()} level {level} sent by {' + '.join(went)}"}))
    for debtor_id, worked_on, level, outcome, note in session.execute(
            select(CallTask.debtor_id, CallTask.worked_on, CallTask.level, CallTask.outcome,
                   CallTask.note)
            .where(CallTask.debtor_id.in_(ids), CallTask.status == DONE,
                   CallTask.worked_on <= today)):
        text = f"{worked_on.isoformat()} call: {outcome}" + (f" ({note})" if note else "")
        items[debtor_id].append((worked_on, 2, {"on": worked_on.isoformat(), "channel": "phone",
                                                "level": level, "text": text}))
    for debtor_id, until, created_at in session.execute(
            select(Promise.debtor_id, Promise.until, Promise.created_at)
            .where(Promise.debtor_id.in_(ids))):
        made = created_at.date()
        if made <= today:
            items[debtor_id].append((made, 0, {"text": f"{made.isoformat()} promise to pay "
                                                       f"until {until.isoformat()}"}))
    history = {}
    for debtor_id, entries in items.items():
        entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
        history[debtor_id] = [e[2] for e in entries]
    return history


def log_call(session: Session, account: str, outcome: str, *, today: date,
             until: date | None = None, invoices: tuple[str, ...] = (),
             note: str | None = None) -> dict[str, Any]:
    """Record a collector's call: the debtor's tasks to work are done, with this outcome.

    A promise is recorded as `recouvrement promise` records it, a dispute as
    `recouvrement dispute open` (every overdue invoice of the debtor unless
    `invoices` names some). Raises `CallError` (nothing changed) when it can't.
    """
    problem = outcome_problem(outcome, until=until, invoices=invoices, today=today)
    if problem:
        raise CallError(problem)
    debtor = session.scalar(select(Debtor).where(Debtor.account == account))
    if debtor is None:
        raise CallError(unknown_debtor(session, account))
    effect = OUTCOMES[outcome]
    disputed: list[str] = []
    if effect == "pause":
        problem = add_promise(session, account, until, today=today)
    elif effect == "stop":
        disputed, problem = _dispute(session, debtor, invoices, today, note)
    if problem:
        raise CallError(problem)
    actor = current_actor()
    now = datetime.now(timezone.utc)
    tasks = list(session.scalars(select(CallTask).where(
        CallTask.debtor_id == debtor.id, CallTask.status.in_(TO_WORK), CallTask.due_on <= today)
        .order_by(CallTask.id).with_for_update()))
    worked = {"status": DONE, "outcome": outcome, "note": note, "worked_by": actor,
              "worked_at": now, "worked_on": today}
    had_task = bool(tasks)
    if not tasks:  # a call made without a task is a call all the same
        task = CallTask(debtor_id=debtor.id, reminder_id=None, level=_level(session, debtor.id),
                        created_on=today, due_on=today, **worked)
        session.add(task)
        session.flush()
        tasks = [task]
    for task in tasks:
        for name, value in worked.items():
            setattr(task, name, value)
    details: dict[str, Any] = {"outcome": outcome, "effect": effect,
                               "tasks": [t.id for t in tasks], "had_task": had_task}
    if note:
        details["note"] = note
    if until is not None:
        details["until"] = until
    if disputed:
        details["invoices"] = disputed
    record(session, [Event("call.logged", account, f"call:{tasks[0].id}", details)], actor)
    return {"account": account, "outcome": outcome, "had_task": had_task,
            "tasks": [t.id for t in tasks] if had_task else [], "invoices": disputed,
            "until": until.isoformat() if until else None}


def _dispute(session: Session, debtor: Debtor, numbers: tuple[str, ...], today: date,
             note: str | None) -> tuple[list[str], str | None]:
    if numbers:
        theirs = set(session.scalars(select(Invoice.number).where(
            Invoice.debtor_id == debtor.id, Invoice.number.in_(numbers))))
        strangers = [n for n in numbers if n not in theirs]
        if strangers:
            return [], f"{', '.join(strangers)}: not an invoice of {debtor.account}"
    else:
        numbers = tuple(session.scalars(select(Invoice.number).where(
            Invoice.debtor_id == debtor.id, Invoice.status == "open", Invoice.open_amount > 0,
            Invoice.due_date < today, Invoice.disputed.is_(False)).order_by(Invoice.number)))
        if not numbers:
            return [], (f"{debtor.account} has no overdue invoice left to dispute: name the one "
                        "contested with --invoice")
    reason = note or "contested on the phone"
    for number in dict.fromkeys(numbers):
        problem = set_dispute(session, number, reason=reason)
        if problem:
            return [], problem
    return list(dict.fromkeys(numbers)), None


def _level(session: Session, debtor_id: int) -> int:
    """The highest level sent to the debtor's open invoices (0 if none)."""
    return session.scalar(
        select(func.max(ReminderItem.level))
        .join(Reminder, Reminder.id == ReminderItem.reminder_id)
        .join(Invoice, Invoice.id == ReminderItem.invoice_id)
        .where(Invoice.debtor_id == debtor_id, Invoice.status == "open",
               Reminder.status == "sent")) or 0
