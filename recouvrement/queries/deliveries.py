"""What a reminder's deliveries (`reminder_deliveries`) say of it, one question each.

The deliveries are the truth of how a reminder went out: which channels it
had (planned, or a letter made in place of an e-mail refused for good), and
what proves each one that went (the e-mail's Message-ID, the letter's file in
the print queue). The dossier, the litigation queue, the calls history and
the retention purge ask these questions here, not of the reminder's row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from recouvrement.adapters.db.models import Reminder, ReminderDelivery
from recouvrement.domain.outbox_states import SENT


class Proof(NamedTuple):
    """What proves a reminder went out: its e-mail's Message-ID, its letter's file."""

    message_id: str | None = None
    letter_file: str | None = None


def channels_of(session: Session, reminder_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each reminder's channels, in the order they were given it: those it was planned
    with, then a letter that replaced an e-mail refused for good."""
    channels: dict[int, list[str]] = defaultdict(list)
    ids = list(reminder_ids)
    if not ids:
        return {}
    for reminder_id, channel in session.execute(
            select(ReminderDelivery.reminder_id, ReminderDelivery.channel)
            .where(ReminderDelivery.reminder_id.in_(ids))
            .order_by(ReminderDelivery.reminder_id, ReminderDelivery.id)):
        channels[reminder_id].append(channel)
    return dict(channels)


def proofs_of(session: Session, reminder_ids: Iterable[int]) -> dict[int, Proof]:
    """The proof of each reminder's e-mail and letter that went out (a reminder with neither
    is left out): an e-mail refused, skipped or not sent yet proves nothing."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    ids = list(reminder_ids)
    if not ids:
        return {}
    for reminder_id, channel, proof in session.execute(
            select(ReminderDelivery.reminder_id, ReminderDelivery.channel, ReminderDelivery.proof)
            .where(ReminderDelivery.reminder_id.in_(ids), ReminderDelivery.status == SENT,
                   ReminderDelivery.channel.in_(("email", "letter")),
                   ReminderDelivery.proof.is_not(None))):
        found[reminder_id][channel] = proof
    return {reminder_id: Proof(p.get("email"), p.get("letter")) for reminder_id, p in found.items()}


def sent_letter_files(session: Session, debtor_id: int, *, below_level: int | None = None
                      ) -> list[str]:
    """The files of the letters that went to the debtor (below a level, if given), the
    oldest first: what a formal notice encloses copies of, what an erasure deletes."""
    query = (select(ReminderDelivery.proof)
             .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
             .where(Reminder.debtor_id == debtor_id, ReminderDelivery.channel == "letter",
                    ReminderDelivery.status == SENT, ReminderDelivery.proof.is_not(None)))
    if below_level is not None:
        query = query.where(Reminder.status == SENT, Reminder.level < below_level)
    return list(session.scalars(query.order_by(Reminder.sent_on, Reminder.id)))
