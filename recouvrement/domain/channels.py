"""Which channel carries a reminder when the one its level names cannot.

One table for the two moments it is asked: at planning, when the debtor has no
usable e-mail address on file, and at sending, when the address is gone since
the planning or the receiving server refused the e-mail for good. A reminder
the policy sends by e-mail then goes by letter: a formal notice must reach the
debtor, and only the letter is left that can carry its text and enclosures. An
SMS or a phone task has no stand-in: a text that cannot go is skipped with its
reason (a landline, no number, a consumer who said STOP), and the other
channels of the level still carry the reminder.
"""

from __future__ import annotations

from typing import Iterable

EMAIL, LETTER, PHONE, SMS = "email", "letter", "phone", "sms"

# Why a channel cannot carry the reminder.
NO_ADDRESS = "no_address"  # no usable e-mail address on file, or none any more
REFUSED_FOR_GOOD = "refused_for_good"  # the receiving server said 5xx: never this address
NO_NUMBER = "no_number"  # no mobile number (none, a landline, not a number)
OPTED_OUT = "opted_out"  # the consumer said STOP

# (channel, why) -> the channel that goes instead; a pair not here has no stand-in.
INSTEAD = {
    (EMAIL, NO_ADDRESS): LETTER,
    (EMAIL, REFUSED_FOR_GOOD): LETTER,
}


def instead_of(channel: str, why: str) -> str | None:
    """The channel that carries the reminder when `channel` cannot, for this reason."""
    return INSTEAD.get((channel, why))


def planned_channels(channels: Iterable[str], *, has_email: bool) -> tuple[tuple[str, ...], str | None]:
    """The channels a level's reminder is planned with for this debtor, and, when they are
    not the level's own, why (in words for the run's report)."""
    channels = tuple(channels)
    if has_email or EMAIL not in channels:
        return channels, None
    stand_in = instead_of(EMAIL, NO_ADDRESS)
    kept = tuple(c for c in channels if c != EMAIL)
    if stand_in not in kept:
        kept = (stand_in, *kept)
    return kept, f"by {stand_in}: no usable e-mail address on file"
