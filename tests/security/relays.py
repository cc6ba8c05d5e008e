"""SMTP relays on loopback that misbehave the way real ones do, for the attack tests."""

from __future__ import annotations

import asyncio
import base64
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

from recouvrement.adapters.mail.sink import free_port

USER, PASSWORD = "relances@creancier.example.com", "Wr0ng-But-S3cret!pw"


def secret_forms(user: str = USER, password: str = PASSWORD) -> list[str]:
    """What must never be shown: the password and the base64 the client sends for it."""
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    u, p = user.encode(), password.encode()
    return [password, b64(b"\0" + u + b"\0" + p), b64(u + b"\0" + u + b"\0" + p), b64(p), b64(u)]


class Relay:
    """`with Relay(...) as relay:` an SMTP relay that demands AUTH (PLAIN or LOGIN).

    `auth_reply`: answer AUTH with this instead (`{arg}`: the AUTH line's argument,
    echoed); `echo`: a refused login quotes the password it got, plain and in
    base64; `data_reply`: answer DATA with this (`{arg}`: the last AUTH argument).
    `stall_after`: accept that many messages, then never answer DATA again.
    """

    def __init__(self, *, user: str = USER, password: str = PASSWORD,
                 auth_reply: str | None = None, echo: bool = False,
                 data_reply: str | None = None, require_auth: bool = True,
                 stall_after: int | None = None) -> None:
        self.user, self.password = user, password
        self.auth_reply, self.echo, self.data_reply = auth_reply, echo, data_reply
        self.require_auth, self.stall_after = require_auth, stall_after
        self.auth_lines: list[str] = []
        self.received: list[bytes] = []
        self.stalled, self._unstall = threading.Event(), threading.Event()
        self.port = free_port()
        self._controller: Controller | None = None

    def __enter__(self) -> "Relay":
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="relay.test",
            authenticator=self._authenticate, auth_require_tls=False)
        self._controller.start()
        return self

    def unstall(self) -> None:
        """Answer the stalled DATA (421, nothing kept) and accept the next messages."""
        self.stall_after = None
        self._unstall.set()

    def __exit__(self, *exc_info) -> None:
        self.unstall()
        self._controller.stop()

    async def handle_AUTH(self, server, session, envelope, args):
        arg = " ".join(args)
        self.auth_lines.append(arg)
        if self.auth_reply is not None:
            return self.auth_reply.format(arg=arg)
        return MISSING

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user.encode() and auth_data.password == self.password.encode())
        if ok or not self.echo:
            return AuthResult(success=ok, handled=False)
        got = auth_data.password
        return AuthResult(success=False, handled=False, message=(
            f"535 5.7.8 bad password {got.decode()} ({base64.b64encode(got).decode()}) "
            f"for {base64.b64encode(auth_data.login).decode()}"))

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply is not None:
            return self.data_reply.format(arg=self.auth_lines[-1] if self.auth_lines else "")
        if self.stall_after is not None and len(self.received) >= self.stall_after:
            self.stalled.set()  # a relay that hangs mid-conversation, until told to stop
            while not self._unstall.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.2 Shutting down, message not accepted"
        self.received.append(envelope.original_content)
        return "250 Message accepted"
