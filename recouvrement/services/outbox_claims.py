"""The outbox's hold on its rows: claims with a lease, and what each delivery became.

`Claims` takes one reminder at a time for a run (planned -> sending, with
its deliveries still to do) and writes what became of the one before in the
same transaction; `Outcome` gathers, as the adapters answer, each
delivery's step of the state table (`domain/outbox_states.py`) and the
reminder's audit entry. `sending.send_outbox` drives both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.adapters.channels import Delivery
from recouvrement.adapters.db import Database
from recouvrement.adapters.db.models import Invoice, Reminder, ReminderDelivery, ReminderItem
from recouvrement.domain import outbox_states as states
from recouvrement.domain.events import EventKind


@dataclass
class SendReport:
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[dict[str, Any]] = field(default_factory=list)
    letters: list[dict[str, Any]] = field(default_factory=list)  # put in the print queue
    switched: list[dict[str, Any]] = field(default_factory=list)  # e-mail refused: by letter
    deferred: list[dict[str, Any]] = field(default_factory=list)  # waits (an SMS at night)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # a channel that could not


_OUTBOX = Reminder.__table__
_DELIVERIES = ReminderDelivery.__table__
MAX_ATTEMPTS = 5  # tries of one reminder, over the runs, before the outbox gives up on it


def claimable(cutoff, max_attempts):
    """Waiting to go out, failed with tries left, claimed by a run whose lease ran out
    before `cutoff` (with tries left), or sent with an SMS or a call beside it still to do
    (its delivery counts its own tries)."""
    tries_left = _OUTBOX.c.attempts < max_attempts
    to_do = select(_DELIVERIES.c.reminder_id).where(_DELIVERIES.c.status.in_(states.CLAIMABLE))
    return or_(_OUTBOX.c.status == "planned",
               and_(_OUTBOX.c.status == "failed", tries_left),
               and_(_OUTBOX.c.status == "sending", _OUTBOX.c.claimed_at < cutoff, tries_left),
               and_(_OUTBOX.c.status == "sent", _OUTBOX.c.id.in_(to_do)))


def exhausted(cutoff, max_attempts):
    """Failed, or left in `sending` by a dead run, with no tries left."""
    spent = _OUTBOX.c.attempts >= max_attempts
    return or_(and_(_OUTBOX.c.status == "failed", spent),
               and_(_OUTBOX.c.status == "sending", _OUTBOX.c.claimed_at < cutoff, spent))


# Each reminder runs one statement of each kind: built once, on the tables
# themselves, they cost about half as much to execute as ORM statements.
_CLAIM = (update(_OUTBOX)
          .where(_OUTBOX.c.id == bindparam("reminder_id"),
                 claimable(bindparam("cutoff"), bindparam("max_attempts")))
          .values(status="sending", claimed_at=bindparam("now"), claimed_by=bindparam("claimer"),
                  attempts=_OUTBOX.c.attempts + 1)
          .returning(*_OUTBOX.c))
# SET comes from the other keys of the parameters: status, sent_at, last_error...
_SETTLE = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("reminder_id"))
_DELIVERIES_OF = (select(_DELIVERIES).where(_DELIVERIES.c.reminder_id == bindparam("reminder_id"))
                  .order_by(_DELIVERIES.c.id))
_SET_DELIVERY = update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("delivery_id"))
_THIS = _OUTBOX.alias("this_reminder")
_LATER = (select(_OUTBOX.c.id).join(_THIS, _THIS.c.debtor_id == _OUTBOX.c.debtor_id)
          .where(_THIS.c.id == bindparam("reminder_id"), _OUTBOX.c.id > _THIS.c.id).limit(1))
_ITEMS, _INVOICES = ReminderItem.__table__, Invoice.__table__
_ITEM_STATES = (select(_INVOICES.c.status, _INVOICES.c.disputed, _ITEMS.c.level)
                .join(_ITEMS, _ITEMS.c.invoice_id == _INVOICES.c.id)
                .where(_ITEMS.c.reminder_id == bindparam("reminder_id")))


class Outcome:
    """What became of each delivery of the reminder in hand, in this run, and what the
    reminder's row and audit entry say of it once written."""

    def __init__(self, row: Reminder, item: dict[str, Any], deliveries: list[Delivery],
                 today: date, max_attempts: int):
        self.row, self.item, self.today, self.max_attempts = row, item, today, max_attempts
        self.deliveries = deliveries
        self.channels = list(dict.fromkeys([*row.channel.split(","),
                                            *(d.channel for d in deliveries)]))
        self.done: dict[str, Any] = {"level": row.level, "invoices": row.invoice_numbers}
        self.values: dict[str, Any] = {}  # on the reminder's row, besides its status
        self.changed: list[Delivery] = []
        self.errors: list[tuple[str, str, bool, str]] = []  # channel, error, permanent, step
        self.deferred: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.delivered: dict[str, str] = {}
        # Found in `sending` at the claim on a channel that cannot be resent: a person's.
        self.errors += [(d.channel, d.last_error or "", True, "permanent") for d in deliveries
                        if d.before == states.SENDING and d.status == states.NEEDS_ATTENTION]

    def _touch(self, delivery: Delivery) -> None:
        if delivery not in self.changed:
            self.changed.append(delivery)

    def sent(self, delivery: Delivery, proof: str) -> None:
        delivery.status = states.step(delivery.status, "delivered")
        delivery.proof, delivery.last_error = proof, None
        self.delivered[delivery.channel] = proof
        self._touch(delivery)

    def fail(self, delivery: Delivery, error: str, permanent: bool) -> None:
        what = states.after_failure(delivery.attempts, self.max_attempts, permanent)
        if what == "exhausted":
            error = given_up_text(error, delivery.attempts, self.row.key)
        delivery.status = states.step(delivery.status, what)
        delivery.last_error = error
        self.errors.append((delivery.channel, error, permanent, what))
        self._touch(delivery)

    def skip(self, delivery: Delivery, why: str, *, quiet: bool = False) -> None:
        """Not by this channel (`quiet`: the letter that replaces it says so already)."""
        delivery.status = states.step(delivery.status, "skipped")
        delivery.last_error = why
        if not quiet:
            self.skipped[delivery.channel] = why
        self._touch(delivery)

    def defer(self, delivery: Delivery, why: str) -> None:
        delivery.status = states.step(delivery.status, "deferred")
        delivery.attempts -= 1  # not tried: no attempt spent
        delivery.last_error = why
        self.deferred[delivery.channel] = why
        self._touch(delivery)

    def add(self, channel: str) -> Delivery:
        """A delivery the reminder did not plan (the letter of a refused e-mail)."""
        delivery = Delivery(None, channel, states.SENDING, 1, before=None)
        self.deliveries.append(delivery)
        self._touch(delivery)
        return delivery

    def put_back_untried(self) -> None:
        """A delivery claimed but not tried (the letter of an e-mail that failed: it goes
        with it) is given back as it was, its attempt not spent."""
        for d in self.deliveries:
            if d.status == states.SENDING and d not in self.changed:
                d.attempts -= 1
                d.status = states.step(d.status, "released",
                                       before=d.before if d.before in states.CLAIMABLE
                                       else states.PLANNED if d.attempts == 0 else states.FAILED)
                self._touch(d)

    def status(self) -> str:
        return states.reminder_status([(d.channel, d.status) for d in self.deliveries])

    def attempted(self) -> bool:
        """Whether anything was tried: a reminder only deferred spends no attempt."""
        return any(d.channel not in self.deferred for d in self.changed) or not self.changed

    def event(self, status: str) -> tuple[str, dict[str, Any]]:
        details = dict(self.done)
        if self.delivered:
            details["deliveries"] = dict(self.delivered)
        if self.skipped:
            details["skipped"] = dict(self.skipped)
        if self.deferred:
            details["waiting"] = dict(self.deferred)
        # The entry is the one the state table gives the step that decided it: a failure
        # of what carries the reminder; else what went out now (with what failed beside
        # it); else the failure beside it (an SMS); else the wait.
        steps = {what for *_, what in self.errors}
        if self.errors:
            error, permanent = self.error()
            details.update(error=error, permanent=permanent, attempts=self.row.attempts)
        if self.delivered and status not in (states.FAILED, states.NEEDS_ATTENTION):
            step = "delivered"
        elif self.errors:
            step = ("exhausted" if "exhausted" in steps else
                    "permanent" if "permanent" in steps else "transient")
        else:
            step = "deferred" if self.deferred else "delivered"
        return EventKind(states.TRANSITIONS[step].event), details

    def error(self) -> tuple[str, bool]:
        texts = list(dict.fromkeys(error for _, error, _, _ in self.errors))
        if len(texts) > 1:
            texts = [f"{channel}: {error}" for channel, error, _, _ in self.errors]
        return "; ".join(texts), any(permanent for _, _, permanent, _ in self.errors)


def given_up_text(error: str, attempts: int, key: str) -> str:
    return (f"{error} -- given up after {attempts} attempts: fix the cause, then "
            f"`recouvrement outbox retry {key[:12]}`")


class Claims:
    """This run's hold on the outbox, one reminder (and its deliveries) at a time.

    Each claim is committed together with the outcome of the reminder before
    it, which its SMTP conversation has just decided: one transaction per
    reminder, all on one connection kept for the batch (no pool checkout,
    ping or reset between reminders). The last outcome is written on the
    way out, even when the run stops on an error.
    """

    def __init__(self, db: Database, run_id: str | None, lease: timedelta, actor: str,
                 max_attempts: int = MAX_ATTEMPTS, resumable: set[str] | frozenset = frozenset()):
        self.db, self.run_id, self.lease, self.actor = db, run_id, lease, actor
        self.max_attempts = max_attempts
        # Channels whose delivery a dead run left in `sending` may be made again.
        self.resumable = {"email", "letter", *resumable}
        self._outcome: tuple[dict[str, Any], Event | None, list[Delivery], int] | None = None

    def __enter__(self) -> "Claims":
        self._connection = self.db.engine.connect()
        self._session = Session(self._connection, expire_on_commit=False)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._outcome is not None:
                # On a connection lost meanwhile, this begins on a new one.
                with self._session.begin():
                    record(self._session, self._write_outcome(self._session), self.actor)
                self._outcome = None
        finally:
            self._session.close()
            self._connection.close()

    def take(self, reminder_id: int, account: str) -> tuple[Reminder, list[Delivery]] | None:
        """The row and its deliveries, claimed for this run (cancelled if no longer due);
        None when another run has it or it went out. Copies: changing them changes nothing."""
        try:
            return self._take(reminder_id, account)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # Rolled back: the next transaction begins on a new connection.
            return self._take(reminder_id, account)

    def _take(self, reminder_id: int, account: str) -> tuple[Reminder, list[Delivery]] | None:
        now = datetime.now(timezone.utc)
        session = self._session
        deliveries: list[Delivery] = []
        with session.begin():
            events = self._write_outcome(session)
            claimed = session.execute(_CLAIM, {"reminder_id": reminder_id, "now": now,
                                               "cutoff": now - self.lease,
                                               "max_attempts": self.max_attempts,
                                               "claimer": self.run_id}).one_or_none()
            row = None if claimed is None else Reminder(**claimed._mapping)
            if row is not None:
                deliveries = self._claim_deliveries(session, row, now)
            stale = row is not None and no_longer_due(session, reminder_id)
            if stale:
                for d in deliveries:
                    if d.status in (states.SENDING, *states.CLAIMABLE):
                        d.status = states.step(d.status, "cancelled")
                        session.execute(_SET_DELIVERY, {"delivery_id": d.id, "status": d.status,
                                                        "last_error": stale})
                # A phone task is made with its reminder: it is no contact yet, and is
                # cancelled with it (calls.carry_call_tasks).
                went = any(d.status == states.SENT and d.channel != "phone" for d in deliveries)
                session.execute(_SETTLE, {"reminder_id": reminder_id,
                                          "status": states.SENT if went else states.CANCELLED})
                row.status, row.last_error = "cancelled", stale
                sent = [d.channel for d in deliveries
                        if d.status == states.SENT and d.channel != "phone"]
                events.append(Event(EventKind(states.TRANSITIONS["cancelled"].event), account,
                                    row.key, {"why": stale,
                                              **({"already_sent": sent} if went else {})}))
            # Last, so that the log's lock is held for as short a time as can be.
            record(session, events, self.actor)
        self._outcome = None
        return None if row is None else (row, deliveries)

    def _claim_deliveries(self, session, row: Reminder, now: datetime) -> list[Delivery]:
        """Move the reminder's deliveries still to do to `sending`, each attempt counted;
        one a dead run left in `sending` on a channel that cannot be resent needs a person."""
        found = session.execute(_DELIVERIES_OF, {"reminder_id": row.id}).all()
        if not found:  # a reminder planned before its deliveries were (or by hand)
            session.execute(insert(_DELIVERIES), [
                {"reminder_id": row.id, "channel": channel, "status": states.PLANNED,
                 "attempts": 0} for channel in dict.fromkeys(row.channel.split(",")) if channel])
            found = session.execute(_DELIVERIES_OF, {"reminder_id": row.id}).all()
        deliveries = []
        for d in found:
            delivery = Delivery(d.id, d.channel, d.status, d.attempts, d.payload, d.proof,
                                d.last_error, before=d.status)
            values: dict[str, Any] = {}
            if d.status in states.CLAIMABLE or (d.status == states.SENDING
                                                and d.channel in self.resumable):
                what = "claim" if d.status in states.CLAIMABLE else "resumed"
                delivery.status = states.step(d.status, what)
                delivery.attempts += 1
                values = {"status": delivery.status, "attempts": delivery.attempts,
                          "claimed_at": now, "claimed_by": self.run_id}
            elif d.status == states.SENDING:
                delivery.status = states.step(d.status, "permanent")
                delivery.last_error = (
                    f"a run stopped while sending this {d.channel} (killed, a crash?): the "
                    f"provider may have taken it, so it is not sent again on its own. Look for "
                    f"reference rec-{row.key[:16]} in the provider's log; to send it again: "
                    f"`recouvrement outbox retry {row.key[:12]}`")
                values = {"status": delivery.status, "last_error": delivery.last_error}
            if values:
                session.execute(_SET_DELIVERY, {"delivery_id": d.id, **values})
            deliveries.append(delivery)
        return deliveries

    def finish_all(self, outcome: Outcome, report: SendReport) -> None:
        """What became of the reminder just handled, written with the next claim."""
        assert self._outcome is None, "the outcome before was not written"
        row, item = outcome.row, outcome.item
        outcome.put_back_untried()
        status = outcome.status()
        values: dict[str, Any] = {"reminder_id": row.id, "status": status, **outcome.values}
        error, permanent = outcome.error()
        values["last_error"] = error or None
        if outcome.delivered and row.sent_on is None:
            values.update(sent_at=datetime.now(timezone.utc), sent_on=outcome.today)
        if not outcome.attempted():
            values["attempts"] = row.attempts - 1  # only deferred: no attempt spent
        kind, details = outcome.event(status)
        self._outcome = (values, Event(kind, item["account"], item["key"], details),
                         outcome.changed, row.id)
        if outcome.errors:
            report.failed.append({**item, "error": error, "permanent": permanent,
                                  "given_up": any(step in ("permanent", "exhausted")
                                                  for *_, step in outcome.errors),
                                  "channels": [c for c, *_ in outcome.errors]})
        elif outcome.delivered:
            report.sent.append({**item, "channels": list(outcome.delivered)})
        for channel, why in outcome.deferred.items():
            report.deferred.append({**item, "channel": channel, "why": why})
        for channel, why in outcome.skipped.items():
            report.skipped.append({**item, "channel": channel, "why": why})

    def release(self, reminder_id: int, row: Reminder, deliveries: list[Delivery]) -> None:
        """Give the row back unsent, as it was before this run claimed it (no audit entry:
        nothing happened to it). A row taken over from a dead run is left claimable."""
        assert self._outcome is None, "the outcome before was not written"
        before = row.attempts - 1
        values = {"reminder_id": reminder_id, "status": "planned" if before == 0 else "failed",
                  "attempts": before}
        if before == 0:
            values.update(claimed_at=None, claimed_by=None)
        back = []
        for d in deliveries:
            if d.id is not None and d.before != d.status:
                d.status = d.before if d.before in states.CLAIMABLE else states.FAILED
                d.attempts -= 1
                back.append(d)
            elif d.id is not None and d.before == states.SENDING and d.status == states.SENDING:
                d.attempts -= 1
                back.append(d)
        self._outcome = values, None, back, reminder_id

    def _write_outcome(self, session) -> list[Event]:
        if self._outcome is None:
            return []
        values, event, deliveries, reminder_id = self._outcome
        session.execute(_SETTLE, values)
        now = datetime.now(timezone.utc)
        for d in deliveries:
            fields = {"status": d.status, "attempts": d.attempts, "proof": d.proof,
                      "last_error": d.last_error,
                      **({"sent_at": now} if d.status == states.SENT else {})}
            if d.id is None:
                session.execute(insert(_DELIVERIES), {"reminder_id": reminder_id,
                                                      "channel": d.channel, **fields})
            else:
                session.execute(_SET_DELIVERY, {"delivery_id": d.id, **fields})
        return [] if event is None else [event]


def no_longer_due(session, reminder_id: int) -> str | None:
    """Why the reminder must not go out any more, if something changed since it was planned."""
    if session.execute(_LATER, {"reminder_id": reminder_id}).first() is not None:
        # An SMS left of an earlier level would come after the later level's e-mail.
        return "a later reminder to the debtor was planned since"
    states = session.execute(_ITEM_STATES, {"reminder_id": reminder_id}).all()
    chased = [s for s in states if s.level is not None]
    if all(s.status != "open" or s.disputed for s in chased):
        return "every invoice it chases was paid or disputed since it was planned"
    if any(s.status != "open" or s.disputed for s in states):
        return "an invoice it lists was paid or disputed since it was planned"
    return None
