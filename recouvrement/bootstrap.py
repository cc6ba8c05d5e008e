"""The composition root: every resource a command, a task or the demo needs, built here.

    resources = build(load_settings())           # the environment the settings name
    with resources.unit_of_work() as uow:
        set_dispute(uow, "F-1", reason="goods damaged")

One `build` per environment (`RECOUVREMENT_ENVIRONMENT`):

- `local` (the default): what the settings name, whose defaults are the
  embedded ones: the SQLite file under `RECOUVREMENT_HOME`, the SMTP sink on
  loopback (`recouvrement sink`), SMS skipped unless a provider is set;
- `production`: what the settings name, and a refusal to start on the
  embedded defaults: a SQLite ledger or the loopback sink's port is a
  setting forgotten, not a choice;
- `test`: fakes: the ledger in memory (`InMemoryUnitOfWork`), a `FakeMailer`,
  a `FakeSmsProvider`, a `FakePdfRenderer`. The batch steps that prove locks
  and leases (the outbox's claims) still run on the settings' database.

The print queue is a folder of files in every environment (under
`RECOUVREMENT_HOME`, a temporary one in tests) and the clock is the real one;
a test that needs another gives `dataclasses.replace(resources, clock=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from recouvrement.adapters.db import Database, open_ledger
from recouvrement.adapters.ports import (Clock, Mailer, MailerFactory, PdfRenderer, PrintQueue,
                                         SmsProvider, utc_now)
from recouvrement.adapters.unit_of_work import (InMemoryUnitOfWork, MemoryLedger, SqlUnitOfWork,
                                                UnitOfWork)
from recouvrement.config.policy import policy_from
from recouvrement.config.settings import Settings, load_settings
from recouvrement.domain.policy import Policy

Environment = Literal["local", "test", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("local", "test", "production")
SINK_PORT = 8025  # the loopback SMTP sink's port (`recouvrement sink`)


class ConfigurationError(ValueError):
    """The settings cannot make the resources of this environment (exit 2)."""


@dataclass(frozen=True)
class Resources:
    """What the services are given: a unit of work per command, and the ports."""

    settings: Settings
    environment: Environment
    mailer: MailerFactory  # a new SMTP session per batch
    sms_provider: SmsProvider | None
    pdf_renderer: PdfRenderer
    print_queue: PrintQueue
    clock: Clock
    database: Callable[[], Database]  # opened, and migrated, on first use
    unit_of_work: Callable[[], UnitOfWork]
    ledger: MemoryLedger | None = field(default=None)  # the test environment's rows

    @property
    def policy(self) -> Policy:
        """The settings' policy (read when first asked for: a read-out never needs it)."""
        return policy_from(self.settings.policy)

    @property
    def template_dirs(self) -> list[Path] | None:
        return template_dirs(self.settings)

    def channels(self) -> list:
        """The adapters of the channels beside e-mail and letter: the phone task, the SMS."""
        from recouvrement.adapters.channels.phone import PhoneChannel
        from recouvrement.adapters.channels.sms import SmsChannel

        s = self.settings
        return [PhoneChannel(), SmsChannel(self.sms_provider, s.timezone, s.sms_default_country,
                                           s.sms_quiet_hours)]


def build(settings: Settings | None = None,
          environment: Environment | None = None) -> Resources:
    """The resources of `environment` (default: the settings' `environment`)."""
    settings = settings if settings is not None else load_settings()
    environment = environment or settings.environment
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(f"environment must be one of {', '.join(ENVIRONMENTS)}, "
                                 f"not {environment!r}")
    from recouvrement.adapters.mail.letters import PrintQueue as FolderQueue

    database = lambda: open_ledger(settings)  # noqa: E731
    queue = FolderQueue(settings.letters_dir)
    if environment == "test":
        from recouvrement.adapters.channels.sms_providers import FakeSmsProvider
        from recouvrement.adapters.mail.mailer import FakeMailer
        from recouvrement.adapters.pdf import FakePdfRenderer

        mailer, ledger = FakeMailer(), MemoryLedger()
        return Resources(settings, environment, mailer=lambda: mailer,
                         sms_provider=FakeSmsProvider(), pdf_renderer=FakePdfRenderer(),
                         print_queue=queue, clock=utc_now, database=database,
                         unit_of_work=lambda: InMemoryUnitOfWork(ledger), ledger=ledger)
    if environment == "production":
        refuse_embedded_defaults(settings)
    from recouvrement.adapters.channels.sms_providers import provider_from_settings
    from recouvrement.adapters.pdf import default_renderer

    return Resources(settings, environment, mailer=lambda: smtp_mailer(settings),
                     sms_provider=provider_from_settings(settings),
                     pdf_renderer=default_renderer(template_dirs(settings)), print_queue=queue,
                     clock=utc_now, database=database,
                     unit_of_work=lambda: SqlUnitOfWork(database()))


def refuse_embedded_defaults(settings: Settings) -> None:
    """Production runs on what its settings name: never the local SQLite file or sink."""
    from sqlalchemy.engine import make_url

    problems = []
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        problems.append("RECOUVREMENT_DATABASE_URL names a SQLite file: production keeps its "
                        "ledger on PostgreSQL (see PostgreSQL in the README)")
    if (settings.smtp_host in ("localhost", "127.0.0.1", "::1")
            and settings.smtp_port == SINK_PORT):
        problems.append(f"RECOUVREMENT_SMTP_HOST/_PORT is {settings.smtp_host}:{SINK_PORT}, the "
                        "local sink: name the SMTP relay")
    if problems:
        raise ConfigurationError("RECOUVREMENT_ENVIRONMENT=production: " + "; ".join(problems))


def smtp_mailer(settings: Settings) -> Mailer:
    """The SMTP relay these settings name (one session per `with`)."""
    from recouvrement.adapters.mail.mailer import SmtpMailer

    return SmtpMailer.from_settings(settings)


def template_dirs(settings: Settings) -> list[Path] | None:
    """The creditor's own templates before the built-in ones (None: the built-in only)."""
    if settings.templates is None:
        return None
    from recouvrement.adapters.mail.render import DEFAULT_TEMPLATES

    return [settings.templates, DEFAULT_TEMPLATES]
