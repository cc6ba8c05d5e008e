"""The outbox as a person sees it: the reminders that did not go out, and trying one again.

A reminder one of whose deliveries needs attention (`needs_attention`: a
refusal for good, or `send_max_attempts` tries spent) waits here: nothing new
is planned for its debtor until someone has fixed the cause and put it back
(`retry`), which the audit log records. Retrying sends only the deliveries
that did not go out: an e-mail that went is not sent again for its letter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import Debtor, Reminder, ReminderDelivery
from recouvrement.domain.outbox_states import (FAILED, NEEDS_ATTENTION, PLANNED, SENT,
                                               TRANSITIONS, step)

WAITING = (FAILED, NEEDS_ATTENTION)
RETRIABLE = (FAILED, NEEDS_ATTENTION)
ALIASES = {"given_up": NEEDS_ATTENTION}  # the name of before deliveries (migration 0014)


class OutboxError(ValueError):
    """A request about the outbox that cannot be carried out (exit 2)."""


def waiting_rows(session: Session, statuses: tuple[str, ...] = WAITING) -> list[dict[str, Any]]:
    """The reminders in these states, oldest first, with what each channel's last error was."""
    statuses = tuple(ALIASES.get(s, s) for s in statuses)
    # A reminder that went out may have an SMS beside it that did not: listed by that one.
    stuck_beside = select(ReminderDelivery.reminder_id).where(
        ReminderDelivery.status.in_(statuses))
    rows = session.execute(
        select(Reminder, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
        .where(or_(Reminder.status.in_(statuses),
                   and_(Reminder.status == SENT, Reminder.id.in_(stuck_beside))))
        .order_by(Reminder.id)).all()
    deliveries: dict[int, list[ReminderDelivery]] = {}
    for d in session.scalars(select(ReminderDelivery).where(
            ReminderDelivery.reminder_id.in_([r.id for r, _ in rows]))
            .order_by(ReminderDelivery.id)):
        deliveries.setdefault(d.reminder_id, []).append(d)
    out = []
    for r, account in rows:
        stuck = [d for d in deliveries.get(r.id, []) if d.status in WAITING]
        status = r.status if r.status in WAITING else next(
            (s for s in (NEEDS_ATTENTION, FAILED) if any(d.status == s for d in stuck)), r.status)
        out.append({"key": r.key[:12], "account": account, "level": r.level, "status": status,
                    "channels": ",".join(d.channel for d in stuck or deliveries.get(r.id, [])),
                    "attempts": max([r.attempts, *(d.attempts for d in stuck)]),
                    "planned_on": r.planned_on.isoformat(), "invoices": list(r.invoice_numbers),
                    "error": "; ".join(f"{d.channel}: {d.last_error}" for d in stuck
                                       if d.last_error) or r.last_error or ""})
    return out


def retry(session: Session, key: str, *, actor: str) -> dict[str, Any]:
    """Put a failed or given-up reminder back to `planned`, its attempts counted afresh."""
    if len(key) < 8 or not key.isalnum():
        raise OutboxError(f"give at least the first 8 characters of the reminder's key, "
                          f"as `recouvrement outbox list` shows them (not {key!r})")
    # The key is hexadecimal: compared as a literal prefix, never a LIKE pattern.
    found = session.execute(
        select(Reminder, Debtor.account).join(Debtor, Debtor.id == Reminder.debtor_id)
        .where(Reminder.key >= key.lower(), Reminder.key < key.lower() + "g")
        .with_for_update(of=Reminder)).all()
    found = [(r, a) for r, a in found if r.key.startswith(key.lower())]
    if not found:
        raise OutboxError(f"no reminder whose key starts with {key!r}")
    if len(found) > 1:
        raise OutboxError(f"{len(found)} reminders have keys starting with {key!r}: give more")
    row, account = found[0]
    stuck = session.scalars(select(ReminderDelivery.channel).where(
        ReminderDelivery.reminder_id == row.id, ReminderDelivery.status.in_(RETRIABLE))).all()
    if row.status not in RETRIABLE and not stuck:
        raise OutboxError(f"reminder {key} for {account} is {row.status}: only a failed one, or "
                          "one that needs attention, is tried again")
    before, attempts = row.status, row.attempts
    if row.status in RETRIABLE:  # else it went out, and only what is beside it goes again
        row.status, row.attempts = step(row.status, "retried"), 0
    # Only what did not go out goes again.
    session.execute(update(ReminderDelivery)
                    .where(ReminderDelivery.reminder_id == row.id,
                           ReminderDelivery.status.in_(RETRIABLE))
                    .values(status=PLANNED, attempts=0, claimed_at=None, claimed_by=None))
    record(session, [Event(EventKind(TRANSITIONS["retried"].event), account, row.key,
                           {"was": before, "attempts_before": attempts,
                            "channels": list(stuck), "last_error": row.last_error})], actor)
    return {"key": row.key[:12], "account": account, "level": row.level, "was": before}
