"""One typed settings object: environment, then `recouvrement.toml`, then defaults."""

from __future__ import annotations

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

    creditor_name: str = "Recouvrement demo SAS"
    creditor_phone: str | None = None
    creditor_iban: str | None = None
    creditor_bic: str | None = None
    creditor_address: str | None = None
    creditor_is_trader: bool = True
    # Agency mode: a collection agency writes for the creditor (CPCE R124-4).
    agency_name: str | None = None
    agency_address: str | None = None

    # The daily run writes the day's report page (recouvrement report) and sums it up in the UI.
    daily_report: bool = True
    # The weekly report (`weekly-report` deployment) goes to these addresses, comma-separated.
    report_recipients: str | None = None
    report_language: Literal["fr", "en"] = "fr"

    # A row left in `sending` longer than this by a run that died is resumed.
    sending_lease_minutes: int = 15
    # Tries of one reminder, over the runs, before the outbox gives up on it and
    # leaves it to a person (`recouvrement outbox list`).
    send_max_attempts: int = Field(default=5, ge=1)

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
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @cached_property
    def creditor(self):
        from recouvrement.mail.render import Creditor

        return Creditor(
            name=self.creditor_name,
            sender=self.sender,
            phone=self.creditor_phone,
            iban=self.creditor_iban,
            bic=self.creditor_bic,
            address=self.creditor_address,
            agency=self.agency_name,
            agency_address=self.agency_address,
        )

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
    def workbook_limits(self):
        from recouvrement.ingest.sheets import WorkbookLimits

        return WorkbookLimits(self.xlsx_max_uncompressed_mb, self.xlsx_max_rows,
                              self.xlsx_max_columns)

    @property
    def letters_dir(self) -> Path:
        return self.home / "letters"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
