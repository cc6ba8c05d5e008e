"""One typed settings object: environment, then `recouvrement.toml`, then defaults."""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "recouvrement.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECOUVREMENT_", toml_file=CONFIG_FILE, extra="ignore"
    )

    home: Path = Path("./data")
    database_url: str | None = None
    inbox: Path | None = None
    policy: Path | None = None
    templates: Path | None = None  # a creditor's own templates, tried first

    smtp_host: str = "localhost"
    smtp_port: int = 8025
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = 30.0
    smtp_retries: int = 3  # transient errors (4xx, disconnects) retried within a run
    smtp_backoff_seconds: float = 1.0
    smtp_rate_per_second: float = 0.0  # 0: no limit
    smtp_connections: PositiveInt = 1  # runs (shards) that may talk to the relay at once
    sender: str = "relances@example.invalid"

    timezone: str = "Europe/Paris"

    # SMS reminders (the `sms` channel of a policy level): none, brevo or ovh. With none,
    # a level's SMS is skipped, and each reminder's audit entry and the run say so.
    sms_provider: Literal["none", "brevo", "ovh"] = "none"
    sms_url: str | None = None  # the provider's API root; a loopback sink in the demo
    sms_api_key: SecretStr | None = None  # Brevo's api-key; OVHcloud's consumer key
    sms_api_secret: SecretStr | None = None  # OVHcloud's application secret
    sms_application_key: str | None = None  # OVHcloud's application key
    sms_service: str | None = None  # OVHcloud's SMS account (sms-xx12345-1)
    sms_sender: str = "RELANCES"  # the sender name shown (11 letters or digits at most)
    sms_stop_number: str | None = None  # the provider's STOP short number, if it has one
    sms_timeout: float = 10.0
    sms_default_country: str = "FR"  # for numbers written without +country code
    # Only business days, 8:00-20:00 in `timezone`. Off only for a sink that no phone is
    # behind: the demo, whose simulated days are run at whatever hour it is.
    sms_quiet_hours: bool = True

    # The creditor's identity, printed on every reminder, letter and dossier. No default:
    # a real run refuses without the ones the law needs (recouvrement/domain/identity.py).
    creditor_name: str | None = None
    creditor_legal_form: str | None = None  # as it reads after the name: "SAS au capital de..."
    creditor_siren: str | None = None
    creditor_address: str | None = None  # lines separated by line breaks
    creditor_phone: str | None = None
    creditor_iban: str | None = None
    creditor_bic: str | None = None
    creditor_is_trader: bool = True
    # Agency mode: the code of the creditor whose ledger these settings are (set by
    # recouvrement.services.agency.creditors.creditor_settings; None for the installation's own).
    creditor_code: str | None = None
    # Agency mode: the creditor's written mandate to the agency (CPCE R124-3), named by the
    # litigation dossier; set by creditor_settings from the register.
    mandate_reference: str | None = None
    mandate_signed_on: date | None = None
    # Agency mode: a collection agency writes for the creditor (CPCE R124-4).
    agency_name: str | None = None
    agency_address: str | None = None

    # The daily run writes the day's report page (recouvrement report) and sums it up in the UI.
    daily_report: bool = True
    # The weekly report (`weekly-report` deployment) goes to these addresses, comma-separated.
    report_recipients: str | None = None
    report_language: Literal["fr", "en"] = "fr"

    # The daily run learns the risk score from the ledger's history once it holds this many
    # examples (a debtor with invoices open on a past day whose outcome is known); until then
    # the hand-set score is used.
    risk_model_min_examples: int = Field(default=500, ge=1)

    # A row left in `sending` longer than this by a run that died is resumed.
    sending_lease_minutes: int = 15
    # Tries of one reminder, over the runs, before the outbox gives up on it and
    # leaves it to a person (`recouvrement outbox list`).
    send_max_attempts: int = Field(default=5, ge=1)

    # The key that signs the audit log and its checkpoints (see audit_key.py),
    # and the append-only file of signed checkpoints: both outside the database.
    audit_key_file: Path | None = None
    audit_checkpoint_file: Path | None = None
    # How long a command waits for its Prefect server to answer (PREFECT_API_URL, the
    # local server, or a temporary one it starts), and how many times it starts a
    # temporary one again, each waiting as long again. Prefect's own knob,
    # PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, is the default when set.
    prefect_startup_timeout_seconds: float | None = None
    prefect_startup_retries: int = 1
    # A file is held back whole, until fixed or confirmed (`ingest --confirm`),
    # when more than this share of its customer rows goes to quarantine, or
    # when it would settle by absence more than this share of the open amount.
    hold_quarantined_percent: Decimal = Decimal("5")
    hold_settled_by_absence_percent: Decimal = Decimal("20")
    # A workbook beyond these is refused unread (a zip bomb, a sheet a million rows wide).
    xlsx_max_uncompressed_mb: PositiveInt = 256
    xlsx_max_rows: PositiveInt = 300_000
    xlsx_max_columns: PositiveInt = 200

    @model_validator(mode="after")
    def _derive_paths(self) -> "Settings":
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.home / 'recouvrement.db'}"
        if self.inbox is None:
            self.inbox = self.home / "inbox"
        if self.audit_key_file is None:
            self.audit_key_file = self.home / "keys" / "audit.key"
        if self.audit_checkpoint_file is None:
            self.audit_checkpoint_file = (self.home / "audit"
                                          / f"checkpoints-{database_label(self.database_url)}.log")
        if self.prefect_startup_timeout_seconds is None:
            self.prefect_startup_timeout_seconds = float(
                os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 120))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        here = TomlConfigSettingsSource(settings_cls)
        sources = [init_settings, env_settings, here]
        # Below the working directory's file, the home's own (the demo writes its creditor
        # there): `home` itself comes from the sources above.
        home = next((source()["home"] for source in sources if source().get("home")), "./data")
        home_file = Path(home) / CONFIG_FILE
        if home_file.is_file() and home_file.resolve() != Path(CONFIG_FILE).resolve():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=home_file))
        return tuple(sources)

    @cached_property
    def creditor(self):
        from recouvrement.adapters.mail.render import Creditor

        return Creditor(
            name=self.creditor_name or "",
            sender=self.sender,
            legal_form=self.creditor_legal_form,
            siren=self.creditor_siren,
            phone=self.creditor_phone,
            iban=self.creditor_iban,
            bic=self.creditor_bic,
            address=self.creditor_address,
            agency=self.agency_name,
            agency_address=self.agency_address,
            mandate_reference=self.mandate_reference,
            mandate_signed_on=self.mandate_signed_on,
            sms_stop_number=self.sms_stop_number,
            code=self.creditor_code,
        )

    def identity_check(self):
        """What a real run lacks of the creditor's (and the agency's) identity."""
        from recouvrement.domain.identity import identity_check

        return identity_check({
            "name": self.creditor_name, "legal_form": self.creditor_legal_form,
            "siren": self.creditor_siren, "address": self.creditor_address,
            "iban": self.creditor_iban, "bic": self.creditor_bic, "phone": self.creditor_phone,
            "sender": self.sender, "agency_address": self.agency_address,
        }, agency=bool(self.agency_name))

    def smtp_password_value(self) -> str | None:
        """The SMTP password, from the environment or the Prefect Secret block."""
        if self.smtp_password is not None:
            return self.smtp_password.get_secret_value()
        if self.smtp_user is None:
            return None
        from prefect.blocks.system import Secret

        try:
            return Secret.load("recouvrement-smtp-password").get()
        except ValueError:
            return None

    @property
    def report_recipient_list(self) -> list[str]:
        return [a.strip() for a in (self.report_recipients or "").split(",") if a.strip()]

    @property
    def hold_limits(self):
        from recouvrement.domain.reconciliation import HoldLimits

        return HoldLimits(self.hold_quarantined_percent, self.hold_settled_by_absence_percent)

    @property
    def letters_dir(self) -> Path:
        return self.home / "letters"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def logs_dir(self) -> Path:
        """Where a command's unexpected error is written in full (tracebacks)."""
        return self.home / "logs"


def database_label(url: str) -> str:
    """A file-name-safe name of this database: its name and a digest of where it is,
    so that two ledgers never share a checkpoint file."""
    import hashlib
    import re

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or "db"
    if parsed.get_backend_name() == "sqlite" and name != ":memory:":
        name = str(Path(name).resolve())
    where = parsed.set(password=None, database=name).render_as_string(hide_password=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem if "/" in name else name)[:40]
    return f"{stem}-{hashlib.sha256(where.encode()).hexdigest()[:10]}"


class IdentityIncomplete(ValueError):
    """A real run would send reminders without what the law needs of the creditor's identity."""


def identity_refusal(missing) -> str:
    return ("a real run would send reminders without what a formal notice and a claim need "
            "of the creditor's identity; nothing was changed. Set (in the environment or in "
            "recouvrement.toml, in lower case without RECOUVREMENT_): "
            + "; ".join(missing))


def require_identity(settings: Settings) -> None:
    """Refuse (IdentityIncomplete) a real run whose letters would lack a required mention."""
    check = settings.identity_check()
    if not check.complete:
        raise IdentityIncomplete(identity_refusal(check.missing))


class SettingsError(ValueError):
    """`recouvrement.toml` holds a key this program does not know, or is not TOML."""


def check_config_file(path: Path = Path(CONFIG_FILE)) -> None:
    """Refuse a `recouvrement.toml` with a misspelt or unknown key: ignoring it would
    quietly run with the default (a relay without TLS, the demo creditor, ...)."""
    import difflib
    import tomllib

    if not path.is_file():
        return
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    known = set(Settings.model_fields)
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SettingsError(f"{path}: unknown setting {key!r}{hint}; the settings are "
                                "those of the README's Configuration, in lower case")


# Agency mode: which creditor's ledger this command, flow or task works on. Set only by
# `recouvrement.services.agency.selection` (the `--creditor` option, the daily flow's `creditor`
# parameter): a function from the agency's settings to the creditor's. Prefect copies
# the context into the threads that run tasks, so a flow's selection reaches them.
SELECTION: ContextVar = ContextVar("recouvrement_creditor_selection", default=None)


def load_agency_settings(**overrides) -> Settings:
    """The settings of the installation itself (the agency's, in agency mode), whatever
    creditor is selected: its database holds the register of creditors."""
    check_config_file()
    settings = Settings(**overrides)
    home_file = settings.home / CONFIG_FILE
    if home_file.resolve() != Path(CONFIG_FILE).resolve():
        check_config_file(home_file)
    return settings


def load_settings(**overrides) -> Settings:
    """The settings of the ledger being worked on: the installation's, or in agency mode
    those of the selected creditor (its home, database, inbox, policy and identity)."""
    settings = load_agency_settings(**overrides)
    select = SELECTION.get()
    return settings if select is None else select(settings)
