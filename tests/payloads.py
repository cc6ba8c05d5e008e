"""What the tests read of a reminder's deliveries' payloads (ReminderDelivery's docstring)."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select, update

from recouvrement.adapters.db.models import Reminder, ReminderDelivery


def payload(session, reminder_id: int, channel: str = "email") -> dict | None:
    return session.scalar(select(ReminderDelivery.payload).where(
        ReminderDelivery.reminder_id == reminder_id, ReminderDelivery.channel == channel))


def set_payload(session, channel: str = "email", reminder_id: int | None = None, **changes):
    """Change keys of the payloads of `channel` (of one reminder, or of all)."""
    query = select(ReminderDelivery).where(ReminderDelivery.channel == channel)
    if reminder_id is not None:
        query = query.where(ReminderDelivery.reminder_id == reminder_id)
    for delivery in session.scalars(query).all():
        session.execute(update(ReminderDelivery).where(ReminderDelivery.id == delivery.id)
                        .values(payload={**(delivery.payload or {}), **changes}))


def with_email(session, query=None) -> list[SimpleNamespace]:
    """The reminders, each with its e-mail's payload keys beside its own columns (those
    without an e-mail delivery with the keys None)."""
    found = []
    for reminder in session.scalars(query if query is not None else select(Reminder)):
        columns = {c.key: getattr(reminder, c.key) for c in Reminder.__table__.columns}
        words = payload(session, reminder.id) or {}
        found.append(SimpleNamespace(**columns, recipient=words.get("recipient"),
                                     subject=words.get("subject"),
                                     body_text=words.get("body_text"),
                                     body_html=words.get("body_html"),
                                     wire=words.get("wire")))
    return found
