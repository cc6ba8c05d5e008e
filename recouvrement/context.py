"""What every step of a run needs: settings, database, policy, creditor."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from pathlib import Path

from recouvrement.adapters.db import Database, open_ledger
from recouvrement.domain.policy import Policy, load_policy
from recouvrement.domain.rates import load_rates
from recouvrement.adapters.mail.mailer import SmtpMailer
from recouvrement.config.settings import Settings, load_settings


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    db: Database
    policy: Policy

    @property
    def template_dirs(self) -> list[Path] | None:
        if self.settings.templates is None:
            return None
        from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES

        return [self.settings.templates, DEFAULT_TEMPLATES]

    def mailer(self) -> SmtpMailer:
        s = self.settings
        return SmtpMailer(s.smtp_host, s.smtp_port, user=s.smtp_user,
                          password=s.smtp_password_value(), security=s.smtp_security,
                          timeout=s.smtp_timeout)


def run_context() -> RunContext:
    settings = load_settings()
    return RunContext(settings, open_ledger(settings), _policy(settings.policy))


def current_policy() -> Policy:
    """The policy this command runs under (its settings' file, or the default ladder)."""
    return _policy(load_settings().policy)


@lru_cache(maxsize=4)
def _policy(path: Path | None) -> Policy:
    # A contractual rate is checked against the legal rate in force today;
    # the interest computation checks it again for every half-year it covers.
    legal_rate, _provisional = load_rates().legal_rate(date.today())
    return load_policy(path, legal_rate=legal_rate)
