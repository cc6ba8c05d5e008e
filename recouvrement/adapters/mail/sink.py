"""A local SMTP server that keeps what it receives: for the demo, the tests and a dry rehearsal.

It listens on loopback only, stores each message in a Maildir when given one
(any mail client can open it) and in memory, and can be told to refuse the
next messages with a given reply code so that failures can be rehearsed.
"""

from __future__ import annotations

import email.policy
import hmac
import mailbox
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = ("127.0.0.1", "::1", "localhost")
STAGES = ("rcpt", "data")
REPLIES = {421: "Service not available, closing channel", 450: "Mailbox unavailable, try later",
           451: "Local error, try again later", 452: "Insufficient storage",
           550: "Mailbox unavailable", 552: "Message too big", 553: "Mailbox name not allowed",
           554: "Transaction failed"}


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, found by letting the kernel pick one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class _Handler:
    """aiosmtpd hooks; they run on the controller's thread."""

    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sink._greeted(session)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.sink._greeted(session)
        return f"250 {server.hostname}"

    async def handle_QUIT(self, server, session, envelope):
        self.sink._quit()
        return "221 Bye"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sink._login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink._scripted_reply("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.sink._scripted_reply("data")
        if reply is not None:
            return reply
        self.sink._store(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        return "250 Message accepted for delivery"


class SmtpSink:
    """`with SmtpSink(port=0, maildir=path) as sink:` ... `sink.port`, `sink.messages`.

    With `login=(user, password)` it demands AUTH (PLAIN or LOGIN, no TLS: it
    is loopback only) before accepting mail, to rehearse a relay with an account.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, maildir: Path | None = None, *,
                 keep_in_memory: bool = True, login: tuple[str, str] | None = None) -> None:
        if host not in LOOPBACK:
            # A sink accepts anything from anyone: never on a reachable interface.
            raise ValueError(f"the SMTP sink listens on loopback only, not {host!r}")
        self.host = host
        self.port = port or free_port(host)
        self.maildir = Path(maildir) if maildir is not None else None
        self.keep_in_memory = keep_in_memory
        self._login = login
        self.received = 0
        self.quits = 0
        self.logins: list[str] = []
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._envelopes: list[Envelope] = []
        self._connections = 0
        self._replies: deque[tuple[str, str]] = deque()
        self._mailbox: mailbox.Maildir | None = None
        self._controller: Controller | None = None

    # --- life cycle --------------------------------------------------------------

    def start(self) -> "SmtpSink":
        if self.maildir is not None:
            self._mailbox = mailbox.Maildir(self.maildir, create=True)
        auth = {}
        if self._login is not None:
            # AUTH is demanded at MAIL by the handler: aiosmtpd's own auth_required
            # warns on every session when TLS is not required as well.
            auth = {"authenticator": self._authenticate, "auth_require_tls": False}
        # server_hostname avoids aiosmtpd's socket.getfqdn(), a DNS lookup that can stall.
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                      server_hostname="recouvrement-sink", enable_SMTPUTF8=True,
                                      **auth)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what tests look at ----------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return list(self._envelopes)

    @property
    def connections(self) -> int:
        """SMTP sessions that said HELO/EHLO (aiosmtpd's own start-up probe does not)."""
        with self._lock:
            return self._connections

    def fail_next(self, code: int, count: int = 1, *, at: str = "data",
                  reply: str | None = None) -> None:
        """Answer `code` instead of accepting, for the next `count` RCPT or DATA commands."""
        if at not in STAGES:
            raise ValueError(f"at must be one of {STAGES}")
        if not 400 <= code < 600:
            raise ValueError(f"a failure reply code is 4xx or 5xx, not {code}")
        text = f"{code} {reply or REPLIES.get(code, 'Failure rehearsed by the sink')}"
        with self._lock:
            self._replies.extend([(at, text)] * count)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages, once at least `count` arrived (the server runs on its own thread)."""
        deadline = time.monotonic() + timeout
        while self.received < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._envelopes.clear()
            self._connections = 0
            self._replies.clear()
            self.logins.clear()
            self.quits = 0
            self.received = 0

    # --- called by the handler -------------------------------------------------------

    def _greeted(self, session) -> None:
        if getattr(session, "recouvrement_counted", False):
            return  # the second EHLO after STARTTLS is the same session
        session.recouvrement_counted = True
        with self._lock:
            self._connections += 1

    def _quit(self) -> None:
        with self._lock:
            self.quits += 1

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert self._login is not None
        ok = False
        if isinstance(auth_data, LoginPassword):
            user, password = (value.encode("utf-8") for value in self._login)
            ok = hmac.compare_digest(auth_data.login, user) and hmac.compare_digest(
                auth_data.password, password)
        if ok:
            with self._lock:
                self.logins.append(auth_data.login.decode("utf-8", "replace"))
        return AuthResult(success=ok, handled=False)

    def _scripted_reply(self, stage: str) -> str | None:
        with self._lock:
            if self._replies and self._replies[0][0] == stage:
                return self._replies.popleft()[1]
        return None

    def _store(self, mail_from: str, rcpt_tos: tuple[str, ...], content: bytes) -> None:
        if self._mailbox is not None:
            key = self._mailbox.add(content)
            # The messages are reminders, personal data: owner-only, whatever the umask.
            os.chmod(Path(self.maildir) / "new" / key, 0o600)
        parsed = BytesParser(policy=email.policy.default).parsebytes(content)
        with self._lock:
            if self.keep_in_memory:
                self._messages.append(parsed)
                self._envelopes.append(Envelope(mail_from, rcpt_tos))
            self.received += 1


def serve_forever(host: str = "127.0.0.1", port: int = 8025, maildir: Path | None = None) -> None:
    """Run a sink until Ctrl-C; what it receives goes to `maildir` only (memory stays flat)."""
    sink = SmtpSink(host, port, maildir, keep_in_memory=maildir is None)
    with sink:
        where = f", storing into {sink.maildir}" if sink.maildir else ", keeping messages in memory"
        print(f"SMTP sink listening on {sink.host}:{sink.port}{where}. Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    print(f"SMTP sink stopped after {sink.received} message(s).", flush=True)
