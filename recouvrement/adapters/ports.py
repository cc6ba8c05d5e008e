"""The outside systems a service talks to, as the services see them.

Each port is what the real adapter already offers, no more: the SMTP relay
(`mail.mailer.SmtpMailer`), an SMS provider (`channels.sms_providers`), the
HTML-to-PDF renderer (`pdf.WeasyPrintRenderer`), the print queue of letters
(`mail.letters.PrintQueue`) and the clock. A service is given them by its
caller, who takes them from the composition root (`recouvrement.bootstrap`);
its tests give it fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Callable, Protocol


@dataclass(frozen=True)
class Wire:
    """A message already in the bytes the relay receives, and its envelope."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=default_policy).parsebytes(self.data)


class Mailer(Protocol):
    """One SMTP session per batch: `with mailer: mailer.send(msg) ...`.

    `send` raises `TransientSendError` (try later), `PermanentSendError` (a
    person must fix something) or `RelayRefused` (the relay's settings)."""

    def __enter__(self) -> "Mailer": ...

    def __exit__(self, *exc_info: object) -> None: ...

    def send(self, message: EmailMessage | Wire) -> None: ...


MailerFactory = Callable[[], Mailer]
"""A new mailer (one SMTP session) for each batch that sends."""


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, text: str, reference: str) -> str:
        """Hand the SMS to the provider; return its message id."""
        ...


class PdfRenderer(Protocol):
    def render(self, html: str, *, base_url: str | None = None) -> bytes:
        """The PDF of this HTML page; relative URLs resolve against `base_url` (a folder)."""
        ...


class PrintQueue(Protocol):
    """The folder of letters to print and post, with its manifest."""

    folder: Path

    def add(self, *, day: date, key: str, pdf: bytes, account: str, name: str,
            address: str | None, postcode: str | None, city: str | None, country: str | None,
            level: int, registered: bool) -> Path:
        """Write the letter and list it in the day's manifest; its path."""
        ...

    def holds(self, path: Path) -> bool:
        """Whether `path` is a letter of this queue."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, timezone-aware, in UTC."""
        ...


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(timezone.utc)
