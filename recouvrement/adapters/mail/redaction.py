"""Take the SMTP credentials out of any text that leaves the mailer.

A relay may echo what it was sent: the `AUTH PLAIN` argument is the base64 of
user and password, `AUTH LOGIN` sends each in base64, CRAM-MD5 the base64 of
the user and a digest. Every error text the mailer raises goes through
`Redactor`, so none of these reaches a log line, the run's output, a Prefect
artifact or the audit log, whichever way the relay quotes them.
"""

from __future__ import annotations

import base64
import binascii
import re

MASK = "***"
# The mechanisms a relay may name after AUTH; the token that follows is an argument.
MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "XOAUTH2", "OAUTHBEARER", "NTLM",
              "GSSAPI", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
              "SCRAM-SHA-256-PLUS")
_AUTH_LINE = re.compile(rf"(?i)\b(AUTH\s+(?:{'|'.join(map(re.escape, MECHANISMS))}))(\s+)([^\s)\]>;,]+)")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{4,}={0,2}")
_MIN_SECRET = 3  # shorter user names are not looked for inside base64 (too many false hits)


class Redactor:
    """`redact(text)`: the text without the password, the AUTH arguments and their base64."""

    def __init__(self, user: str | None, password: str | None) -> None:
        self._password = password or None
        secrets = [s.encode("utf-8") for s in (password, user) if s and len(s) >= _MIN_SECRET]
        self._secrets = secrets
        self._cores = [core for s in secrets for core in _base64_cores(s)]

    def __call__(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, MASK)
        text = _AUTH_LINE.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
        if not self._secrets:
            return text
        return _BASE64_RUN.sub(self._masked, text)

    def _masked(self, match: re.Match) -> str:
        run = match[0]
        if any(core in run for core in self._cores):
            return MASK
        decoded = _decode(run)
        if decoded is not None and any(s in decoded for s in self._secrets):
            return MASK
        return run


def _base64_cores(secret: bytes) -> list[str]:
    """The base64 characters that encode `secret` wherever it sits in a longer string.

    Base64 maps 3 bytes to 4 characters, so the secret's encoding depends on its
    offset modulo 3; for each offset, the characters of the groups that hold
    only the secret's bytes are always the same (standard and URL-safe alphabets).
    """
    cores = []
    for offset in range(3):
        head = (3 - offset) % 3  # bytes of the secret that share a group with what precedes it
        whole = (len(secret) - head) // 3 * 3
        if whole < 3:
            continue
        chunk = base64.b64encode(secret[head:head + whole]).decode("ascii")
        cores += [chunk, chunk.replace("+", "-").replace("/", "_")]
    return cores


def _decode(run: str) -> bytes | None:
    body = run.rstrip("=")
    for alphabet in (None, b"-_"):
        try:
            return base64.b64decode(body + "=" * (-len(body) % 4), altchars=alphabet,
                                    validate=True)
        except (binascii.Error, ValueError):
            continue
    return None
