"""Channels a reminder goes out by, each an adapter behind one small protocol.

The outbox (`recouvrement/services/sending.py`) claims a reminder, then hands each of
its deliveries in `sending` to the adapter of its channel. An adapter either
returns the proof that the delivery went out, or raises one of the outcomes
below; the outbox writes what it says through the state table of
`domain/outbox_states.py`. E-mail and the registered letter are the
outbox's own (`sending.py`: the e-mail carries the letter's PDF, and a
refused e-mail turns into a letter); the phone task and the SMS are here.

Adding a channel: one adapter (a class with `name`, `resumable` and
`deliver`), its templates, and its name in `domain/policy.py` CHANNELS —
see README, "Adding a channel".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from recouvrement.adapters.db import Database
from recouvrement.adapters.mail.mailer import PermanentSendError, TransientSendError

__all__ = ["Channel", "Delivery", "Job", "Deferred", "Skipped", "PermanentSendError",
           "TransientSendError"]


class Deferred(Exception):
    """Not now (an SMS at night): the delivery waits for a later run; no attempt spent."""


class Skipped(Exception):
    """This channel cannot carry this reminder, and that is no failure (no mobile number,
    the debtor opted out): the reminder goes by its other channels; the reason is kept."""


@dataclass
class Delivery:
    """A reminder's delivery by one channel, as the run holds it."""

    id: int | None
    channel: str
    status: str
    attempts: int
    payload: dict[str, Any] | None = None
    proof: str | None = None
    last_error: str | None = None
    before: str | None = None  # its state before this run claimed it


@dataclass
class Job:
    """What an adapter is told about the reminder in hand."""

    db: Database
    reminder: Any  # the claimed `Reminder` row (a copy)
    account: str
    today: date
    now: datetime  # aware, UTC
    details: dict[str, Any] = field(default_factory=dict)  # goes into the audit entry


class Channel(Protocol):
    name: str
    # Whether a delivery left in `sending` by a run that died may be made again: an
    # e-mail may (the receiving server drops a second copy with the same Message-ID),
    # an SMS may not (the debtor's phone would show it twice).
    resumable: bool

    def deliver(self, job: Job, delivery: Delivery) -> str:
        """Make the delivery; return its proof (an id the outside system gave).

        Raise TransientSendError (try again on a later run), PermanentSendError
        (a person must fix something), Deferred or Skipped."""
        ...
