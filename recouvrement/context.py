"""What every step of a run needs: settings, database, policy, creditor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recouvrement.adapters.db import Database, open_ledger
from recouvrement.config.policy import policy_from
from recouvrement.domain.policy import Policy
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
    return RunContext(settings, open_ledger(settings), policy_from(settings.policy))
