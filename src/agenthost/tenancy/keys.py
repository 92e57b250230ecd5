"""API key material: ``ahk_<prefix>_<secret>``.

The prefix is public (shown in listings, used to find the row); the whole key is stored only as
its SHA-256 digest. A key carries 256 random bits, so a fast hash suffices: there is nothing to
guess offline. Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_TAG = "ahk"
PREFIX_BYTES = 6
SECRET_BYTES = 32
# Compared against when no key has the given prefix, so both paths do the same work.
_ABSENT_DIGEST = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    plaintext: str
    """Shown once, at creation; never stored."""
    prefix: str
    digest: str


def generate() -> NewKey:
    prefix = secrets.token_hex(PREFIX_BYTES)
    plaintext = f"{KEY_TAG}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(plaintext, prefix, digest(plaintext))


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def prefix_of(plaintext: str) -> str | None:
    """The prefix of a well-formed key; None for anything else."""
    tag, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != KEY_TAG or len(prefix) != 2 * PREFIX_BYTES or not secret or not plaintext.isascii():
        return None
    return prefix


def matches(plaintext: str, stored_digest: str | None) -> bool:
    """Constant-time check of ``plaintext`` against a stored digest (None: no such key)."""
    expected = stored_digest if stored_digest is not None else _ABSENT_DIGEST
    return hmac.compare_digest(digest(plaintext), expected) and stored_digest is not None
