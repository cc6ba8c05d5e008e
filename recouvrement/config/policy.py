"""The policy a command runs under: its settings' file, or the default ladder."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from recouvrement.config.settings import load_settings
from recouvrement.domain.policy import Policy, load_policy
from recouvrement.domain.rates import load_rates


def current_policy() -> Policy:
    """The policy of this command's settings (the creditor's, in agency mode)."""
    return policy_from(load_settings().policy)


@lru_cache(maxsize=4)
def policy_from(path: Path | None) -> Policy:
    """The policy in this file (None: the default ladder), read once per process.

    A contractual rate is checked against the legal rate in force today; the
    interest computation checks it again for every half-year it covers.
    """
    legal_rate, _provisional = load_rates().legal_rate(date.today())
    return load_policy(path, legal_rate=legal_rate)
