"""Sending reminders: one SMTP connection per batch, errors sorted into retry-later and give-up.

A transient error (4xx reply, dropped connection, timeout) leaves the reminder
to be retried on the next run; a permanent one (5xx reply, refused recipient)
needs someone to fix the address first. A relay that refuses the session
itself (a wrong password, authentication demanded, a certificate not trusted,
the sender refused) is `RelayRefused`: no message can go through it, whoever
the recipient, so the run's sending stops there and nothing is changed.
No error text carries the credentials, even when the relay echoes them.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Literal

import yagmail

from recouvrement.adapters.mail.redaction import Redactor
from recouvrement.adapters.ports import Mailer, Wire  # noqa: F401 (the port, defined with the others)

Security = Literal["none", "starttls", "ssl"]
SECURITIES = ("none", "starttls", "ssl")


class SendError(Exception):
    """A message could not be handed to the relay."""


class TransientSendError(SendError):
    """Worth retrying later: 4xx reply, dropped connection, timeout."""


class PermanentSendError(SendError):
    """Retrying will not help until something is fixed: 5xx reply, refused recipient."""


class RelayRefused(SendError):
    """The relay refuses this account or these settings: no recipient is at fault.

    Authentication refused (535, 534, 538) or demanded (530, at AUTH, MAIL or
    RCPT; "relay access denied"), the sender refused, the TLS certificate not
    trusted, a needed extension missing. Fixing the settings is the only cure.
    """


# Reply codes of a refused or missing authentication (RFC 4954 section 6).
AUTH_CODES = (530, 534, 535, 538)
_RELAY_DENIED = re.compile(r"(?i)relay(ing)? (access )?(denied|not permitted)|"
                           r"authentication required|must (issue|authenticate)")


def recipients_of(message: EmailMessage | Wire) -> list[str]:
    if isinstance(message, Wire):
        return list(message.recipients)
    fields = [value for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return [address for _, address in getaddresses([str(f) for f in fields]) if address]


class SmtpMailer:
    """The SMTP relay, reached through yagmail.

    yagmail opens the session (connection, STARTTLS or SSL, login); the message
    itself is the one `build_email` made, handed to the open connection with
    `yag.smtp.send_message`, or its wire form as planned, with `sendmail`
    (the bytes as they are). yagmail's own builder is not used: it turns the
    HTML source into the text/plain part, gives repeated reminders the same
    Message-ID and swallows disconnects into `.unsent` instead of raising.
    """

    @classmethod
    def from_settings(cls, s) -> "SmtpMailer":
        """The relay these settings name (`RECOUVREMENT_SMTP_*`)."""
        return cls(s.smtp_host, s.smtp_port, user=s.smtp_user, password=s.smtp_password_value(),
                   security=s.smtp_security, timeout=s.smtp_timeout)

    def __init__(self, host: str, port: int, *, user: str | None = None,
                 password: str | None = None, security: Security = "none",
                 timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        if security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {SECURITIES}, not {security!r}")
        if user and password is None:
            # yagmail would otherwise look in a keyring, then prompt on the terminal.
            raise ValueError(f"SMTP user {user!r} is set but no password was given")
        if timeout is None or timeout <= 0:
            raise ValueError("an SMTP timeout is required: without one a bad relay hangs the run")
        self.host, self.port = host, int(port)
        self.user = user or None
        self._password = password
        self._redact = Redactor(self.user, password)
        self.security = security
        self.timeout = float(timeout)
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._yag: yagmail.SMTP | None = None
        self._entered = False
        self.connections = 0  # sessions opened, for the run report and the tests

    def __repr__(self) -> str:  # no password, ever
        return (f"SmtpMailer(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"security={self.security!r})")

    def __enter__(self) -> "SmtpMailer":
        self._entered = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._entered = False
        self._close()

    def send(self, message: EmailMessage | Wire) -> None:
        if not self._entered:
            raise RuntimeError("SmtpMailer.send outside `with mailer:`")
        # Errors are raised `from None`: the original carries the relay's reply
        # unredacted, and a traceback would print it.
        error = None
        try:
            smtp = self._open()
            if isinstance(message, Wire):
                refused = smtp.sendmail(message.sender, list(message.recipients), message.data)
            else:
                refused = smtp.send_message(message)
        except SendError as exc:
            error = exc
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            error = TransientSendError(self._describe("connection lost", exc))
        except smtplib.SMTPRecipientsRefused as exc:
            error = self._refused(exc.recipients)
            if isinstance(error, RelayRefused):
                self._drop()
        except smtplib.SMTPResponseException as exc:
            # MAIL or DATA refused with a reply code.
            reply = _text(exc.smtp_error)
            if isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code >= 500 and (
                    exc.smtp_code != 552):  # 552 at MAIL: this message is too big
                error = RelayRefused(self._describe(f"the relay refuses the sender or the "
                                                    f"account: {exc.smtp_code} {reply}"))
            elif exc.smtp_code in AUTH_CODES or _RELAY_DENIED.search(reply):
                error = RelayRefused(self._describe(f"the relay demands another login: "
                                                    f"{exc.smtp_code} {reply}"))
            else:
                error = _by_code(exc.smtp_code, self._describe(f"{exc.smtp_code} {reply}"))
            if isinstance(error, RelayRefused) or self._lost():
                self._drop()
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            error = PermanentSendError(self._describe("relay lacks a needed extension", exc))
        except smtplib.SMTPException as exc:
            self._drop()
            error = PermanentSendError(self._describe("SMTP error", exc))
        except OSError as exc:  # timeouts, refused or reset connections, TLS failures
            self._drop()
            error = TransientSendError(self._describe("network error", exc))
        if error is not None:
            raise error from None
        if refused:  # some recipients refused, others accepted
            raise self._refused(refused) from None

    def _open(self) -> smtplib.SMTP:
        """The session, opened if need be; a relay that will not have us is `RelayRefused`."""
        try:
            return self._session()
        except smtplib.SMTPAuthenticationError as exc:
            raise RelayRefused(self._describe(
                f"the relay refused the login of {self.user!r} ({exc.smtp_code} "
                f"{_text(exc.smtp_error)}): check RECOUVREMENT_SMTP_USER and the password"))
        except smtplib.SMTPNotSupportedError as exc:
            raise RelayRefused(self._describe("the relay lacks an extension the settings need "
                                              "(AUTH or STARTTLS: check RECOUVREMENT_SMTP_USER "
                                              "and RECOUVREMENT_SMTP_SECURITY)", exc))
        except ssl.SSLCertVerificationError as exc:
            raise RelayRefused(self._describe("TLS certificate not trusted", exc))
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientSendError(self._describe("connection lost", exc))
        except smtplib.SMTPResponseException as exc:  # refused at connect, EHLO, STARTTLS
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise RelayRefused(self._describe(f"the relay refuses the session: {reply}"))
            raise TransientSendError(self._describe(reply))
        except smtplib.SMTPException as exc:
            raise RelayRefused(self._describe("SMTP error while opening the session", exc))
        except OSError as exc:
            raise TransientSendError(self._describe("network error", exc))

    # --- the session ------------------------------------------------------------

    def _session(self) -> smtplib.SMTP:
        if self._yag is not None and not self._lost():
            return self._yag.smtp
        self._drop()
        kwargs: dict = {"timeout": self.timeout}  # yagmail has no default: always pass one
        if self._local_hostname:
            kwargs["local_hostname"] = self._local_hostname
        context = self._ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            kwargs["context"] = context  # smtplib's default context checks no certificate
        yag = yagmail.SMTP(
            user=self.user, password=self._password, host=self.host, port=self.port,
            smtp_ssl=self.security == "ssl",
            smtp_starttls={"context": context} if self.security == "starttls" else False,
            smtp_skip_login=self.user is None,
            soft_email_validation=False,  # the user may be a login, not an address
            **kwargs)
        if self.user is not None:
            yag.user = self.user  # yagmail appends "@gmail.com" to a login without "@"
        self._yag = yag
        try:
            yag.login()
        except BaseException:
            self._drop()
            raise
        self.connections += 1
        return yag.smtp

    def _lost(self) -> bool:
        smtp = self._yag.smtp if self._yag is not None else None
        return smtp is None or getattr(smtp, "sock", None) is None

    def _drop(self) -> None:
        """Forget the connection without talking to the server; the next send reconnects."""
        yag, self._yag = self._yag, None
        if yag is None:
            return
        yag.is_closed = True  # so yagmail's __del__ does not QUIT on a dead socket
        if yag.smtp is not None:
            try:
                yag.smtp.close()
            except OSError:
                pass

    def _close(self) -> None:
        yag, self._yag = self._yag, None
        if yag is None:
            return
        yag.is_closed = True
        smtp = yag.smtp
        if smtp is None:
            return
        try:
            if getattr(smtp, "sock", None) is not None:
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def _describe(self, what: str, exc: BaseException | None = None) -> str:
        text = f"SMTP {self.host}:{self.port}: {what}"
        if exc is not None:
            text += f" ({type(exc).__name__}: {exc})"
        return self._redact(text)

    def _refused(self, recipients: Mapping[str, tuple[int, bytes]]) -> SendError:
        error = _refused(recipients)
        text = self._redact(str(error))
        if any(code in AUTH_CODES or _RELAY_DENIED.search(_text(reply))
               for code, reply in recipients.values()):
            # "Relay access denied" to every recipient: the login is missing or wrong.
            return RelayRefused(self._redact(
                f"SMTP {self.host}:{self.port}: the relay will not take mail from this "
                f"account ({text}): check RECOUVREMENT_SMTP_USER and the password"))
        return type(error)(text)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, text: str) -> SendError:
    if 500 <= code < 600:
        return PermanentSendError(text)
    return TransientSendError(text)  # 4xx, and the odd code a broken relay invents


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> SendError:
    details = "; ".join(
        f"{address}: {code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"
        for address, (code, reply) in recipients.items())
    # A 4xx at RCPT is greylisting or a full mailbox: try again on the next run.
    if recipients and all(400 <= code < 500 for code, _ in recipients.values()):
        return TransientSendError(f"recipient deferred: {details}")
    return PermanentSendError(f"recipient refused: {details}")


class FakeMailer:
    """Records what would have been sent; `fail(recipient, error)` scripts failures.

    A scripted error is raised once per call to `fail` (or `times` times), for
    messages addressed to that recipient, in the order they were scripted.
    """

    def __init__(self, failures: Mapping[str, SendError | Iterable[SendError]] | None = None):
        self.sent: list[EmailMessage] = []
        self.attempts: list[EmailMessage] = []
        self.failed: list[tuple[EmailMessage, SendError]] = []
        self.connections = 0
        self.open = False
        self._failures: dict[str, deque[SendError]] = defaultdict(deque)
        for recipient, errors in (failures or {}).items():
            for error in [errors] if isinstance(errors, BaseException) else errors:
                self.fail(recipient, error)

    def fail(self, recipient: str, error: SendError, *, times: int = 1) -> None:
        for _ in range(times):
            self._failures[recipient.strip().lower()].append(error)

    def __enter__(self) -> "FakeMailer":
        if self.open:
            raise RuntimeError("FakeMailer entered twice")
        self.open = True
        self.connections += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.open = False

    def send(self, message: EmailMessage | Wire) -> None:
        if not self.open:
            raise RuntimeError("FakeMailer.send outside `with mailer:`")
        if isinstance(message, Wire):  # recorded as the relay would read it
            message = message.parsed()
        self.attempts.append(message)
        for recipient in recipients_of(message):
            queue = self._failures.get(recipient.lower())
            if queue:
                error = queue.popleft()
                self.failed.append((message, error))
                raise error
        self.sent.append(message)

    @property
    def sent_to(self) -> list[str]:
        return [address for message in self.sent for address in recipients_of(message)]
