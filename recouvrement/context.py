"""What every step of a run needs: settings, database, policy, creditor.

A view of the composition root's resources (`recouvrement.bootstrap`) for
the tasks: `run_context()` builds them from the settings of now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recouvrement.adapters.db import Database
from recouvrement.adapters.ports import Mailer
from recouvrement.bootstrap import Resources, build
from recouvrement.config.settings import Settings, load_settings
from recouvrement.domain.policy import Policy


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    db: Database
    policy: Policy
    resources: Resources

    @property
    def template_dirs(self) -> list[Path] | None:
        return self.resources.template_dirs

    def mailer(self) -> Mailer:
        return self.resources.mailer()


def run_context() -> RunContext:
    resources = build(load_settings())
    return RunContext(resources.settings, resources.database(), resources.policy, resources)

