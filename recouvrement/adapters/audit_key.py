"""The installation's audit key: a secret kept in a file outside the database.

It signs (HMAC-SHA256) every audit entry and every checkpoint of the chain's
head, and keys the pseudonyms a GDPR purge leaves behind. Whoever holds only
the database (a copy of the SQLite file, a PostgreSQL role, a backup) can read
the log and check its hashes, but can neither write an entry nor re-hash the
chain nor cut its end without `audit verify` saying so.

HMAC from the standard library, not a public-key signature: the party that
checks the log (the creditor, or an expert it hands the key to under seal) is
the party that writes it, so a public verification key would add a dependency
and no protection against the one thing HMAC cannot stop either: someone who
can read the key file signs what they like. Keep that file readable by the
service account only, out of the database's backups.

The file holds 64 hexadecimal characters (32 random bytes). It is created,
owner-only, the first time something is written to an empty or unsigned log;
once entries are signed, a missing key is an error, never a new key (a new key
would make every earlier signature look forged, and change pseudonyms).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path


class AuditKeyError(RuntimeError):
    """The audit key file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """Names the key without revealing it (printed in checkpoints)."""
        return self.mac("key-id", b"")[:16]

    def mac(self, purpose: str, data: bytes | str) -> str:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return hmac.new(self.secret, purpose.encode("ascii") + b"\0" + data,
                        hashlib.sha256).hexdigest()

    def matches(self, purpose: str, data: bytes | str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.mac(purpose, data), mac)


def load_key(path: Path) -> AuditKey | None:
    """The key in `path`, or None when there is no such file."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"audit key {path}: cannot be read ({exc})") from exc
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise AuditKeyError(f"audit key {path}: not 64 hexadecimal characters")
    return AuditKey(secret, path)


def create_key(path: Path) -> AuditKey:
    """A new random key in a new file, readable and writable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        found = load_key(path)
        assert found is not None
        return found
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    found = load_key(path)
    assert found is not None
    return found


def loose_permissions(path: Path) -> bool:
    """True when group or others may read or write the key file."""
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:
        return False
