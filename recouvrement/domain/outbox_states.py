"""The outbox's states, as one table: what may follow what, and what each step records.

A reminder goes out by one delivery per channel (e-mail, registered letter,
SMS, phone task); each delivery walks this table on its own, so an e-mail
that went out is never sent again because the letter beside it failed.
The reminder's own status is read off its deliveries (`reminder_status`).

    planned ──claim──► sending ──delivered──► sent
       ▲                  │ ├──transient───► failed ──claim──► sending
       │                  │ ├──permanent───► needs_attention ──retried──► planned
       └────deferred──────┘ ├──exhausted───► needs_attention
                            ├──skipped─────► skipped
                            └──cancelled───► cancelled

`needs_attention` is where the outbox stops trying and a person looks
(`recouvrement outbox list`, `outbox retry`): a refusal that retrying will
not cure, or the tries used up. `skipped` is a channel that could not carry
this reminder for a reason that is not a failure (no mobile number, the
debtor answered STOP, no SMS provider configured): the reminder went by its
other channels, and the reason is in the audit log and the run's report.
"""

from __future__ import annotations

from typing import NamedTuple

PLANNED, SENDING, SENT, FAILED = "planned", "sending", "sent", "failed"
NEEDS_ATTENTION, SKIPPED, CANCELLED = "needs_attention", "skipped", "cancelled"
STATES = (PLANNED, SENDING, SENT, FAILED, NEEDS_ATTENTION, SKIPPED, CANCELLED)
# Waiting to be taken by a run (a delivery in `sending` is too, once its lease ran out).
CLAIMABLE = (PLANNED, FAILED)
# Nothing more will be done without a person.
FINAL = (SENT, SKIPPED, CANCELLED)
WAITING_FOR_A_PERSON = (FAILED, NEEDS_ATTENTION)


class IllegalTransition(ValueError):
    """A step the table does not allow from the delivery's state."""


class Transition(NamedTuple):
    sources: tuple[str, ...]
    target: str | None  # None: back to the state before the claim
    event: str | None   # the audit event kind the step records (None: nothing happened)
    counts_attempt: bool = False


TRANSITIONS: dict[str, Transition] = {
    # Taken by a run: the attempt is counted before the outside system is called.
    "claim": Transition(CLAIMABLE, SENDING, None, counts_attempt=True),
    # Left in `sending` by a run that died; taken again when the channel can be
    # resent without a duplicate reaching the debtor (e-mail: same Message-ID).
    "resumed": Transition((SENDING,), SENDING, None, counts_attempt=True),
    "delivered": Transition((SENDING,), SENT, "reminder.sent"),
    "transient": Transition((SENDING,), FAILED, "reminder.failed"),
    "permanent": Transition((SENDING,), NEEDS_ATTENTION, "reminder.needs_attention"),
    "exhausted": Transition((SENDING, FAILED), NEEDS_ATTENTION, "reminder.given_up"),
    # Not now (an SMS outside 8:00-20:00 or on a holiday): the next run tries; no attempt
    # spent. Its own entry when nothing else went out, else in the reminder's (`waiting`).
    "deferred": Transition((SENDING,), PLANNED, "delivery.deferred"),
    # Said in the reminder's own entry (`skipped`: channel -> why), beside what went out.
    "skipped": Transition((PLANNED, SENDING), SKIPPED, None),
    # The relay refused the session itself: nothing happened to this reminder.
    "released": Transition((SENDING,), None, None),
    "cancelled": Transition((PLANNED, FAILED, SENDING), CANCELLED, "reminder.cancelled"),
    "retried": Transition(WAITING_FOR_A_PERSON, PLANNED, "reminder.retried"),
}


def step(state: str, what: str, *, before: str | None = None) -> str:
    """The state a delivery in `state` reaches on `what`; `before` is its state before the
    claim (for `released`)."""
    transition = TRANSITIONS[what]
    if state not in transition.sources:
        raise IllegalTransition(f"a delivery that is {state} cannot be {what}")
    if transition.target is None:
        return before or PLANNED
    return transition.target


def after_failure(attempts: int, max_attempts: int, permanent: bool) -> str:
    """Which step a failure is: a refusal for good, the last try spent, or one to retry."""
    if permanent:
        return "permanent"
    return "exhausted" if attempts >= max_attempts else "transient"


# The channels that carry the reminder itself; the others (an SMS, a phone task) go with it.
CARRIERS = ("email", "letter")


def reminder_status(deliveries: list[tuple[str, str]]) -> str:
    """The reminder's status, read off its deliveries' (channel, state).

    Sent once what carries it (its e-mail, its letter) is done and one of them
    went out: an SMS beside it that waits for its hours, is tried again or
    needs a person is that delivery's own business (`outbox list` shows it),
    and holds up neither the ladder nor litigation. Otherwise: in flight while
    one is; waiting while one is left to do; then a person's if one needs
    attention; sent when something went out (the rest skipped or cancelled);
    cancelled when nothing went out because it was no longer due.
    """
    present = {state for _, state in deliveries}
    if not present:
        return PLANNED
    carried = [state for channel, state in deliveries if channel in CARRIERS]
    if SENDING not in present and SENT in carried and all(s in FINAL for s in carried):
        return SENT
    for status in (SENDING, FAILED, PLANNED, NEEDS_ATTENTION, SENT, CANCELLED):
        if status in present:
            return status
    return NEEDS_ATTENTION  # every channel skipped: nothing could carry it
