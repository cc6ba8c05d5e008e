"""The channel fallback table: which channel carries a reminder when its own cannot."""

from __future__ import annotations

import pytest

from recouvrement.domain.channels import (EMAIL, LETTER, NO_ADDRESS, NO_NUMBER, OPTED_OUT, PHONE,
                                          REFUSED_FOR_GOOD, SMS, instead_of, planned_channels)


@pytest.mark.parametrize("channel, why, expected", [
    (EMAIL, NO_ADDRESS, LETTER),
    (EMAIL, REFUSED_FOR_GOOD, LETTER),
    (SMS, NO_NUMBER, None),  # a text has no stand-in: the level's other channels carry it
    (SMS, OPTED_OUT, None),
    (PHONE, NO_NUMBER, None),
    (LETTER, NO_ADDRESS, None),  # the letter is the last resort: nothing stands in for it
])
def test_what_goes_instead(channel, why, expected):
    assert instead_of(channel, why) == expected


@pytest.mark.parametrize("level, has_email, expected, reason", [
    (("email",), True, ("email",), None),
    (("email",), False, ("letter",), "by letter: no usable e-mail address on file"),
    (("email", "letter"), False, ("letter",), "by letter: no usable e-mail address on file"),
    (("email", "sms", "phone"), False, ("letter", "sms", "phone"),
     "by letter: no usable e-mail address on file"),
    (("sms", "phone"), False, ("sms", "phone"), None),  # no e-mail planned: nothing to replace
    (("letter",), False, ("letter",), None),
])
def test_the_channels_a_level_is_planned_with(level, has_email, expected, reason):
    assert planned_channels(level, has_email=has_email) == (expected, reason)
