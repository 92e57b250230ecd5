"""Secret references: a setting's value that names where the secret lives instead of holding it.

``env:NAME``, ``file:/run/secrets/db-password``, ``vault:path/in/kv#key`` (HashiCorp Vault KV
v2, mount ``vault_kv_mount``) and ``aws:secret-id`` or ``aws:secret-id#key`` (AWS Secrets
Manager; with ``#key`` the secret string is a JSON object and ``key`` one of its fields).
Any other value is the secret itself.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMES = ("env", "file", "vault", "aws")
KEY_REQUIRED = frozenset({"vault"})
KEY_REFUSED = frozenset({"env", "file"})


class SecretError(Exception):
    """A secret cannot be resolved. Messages name the reference, never a value."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    scheme: str
    locator: str
    """The variable, file path, Vault path or AWS secret id."""
    key: str | None = None
    """The field inside a structured secret (Vault data, AWS JSON)."""

    def __str__(self) -> str:
        return f"{self.scheme}:{self.locator}" + (f"#{self.key}" if self.key else "")


def parse_reference(value: str) -> SecretRef | None:
    """The reference ``value`` spells, None for a literal secret; SecretError if malformed."""
    scheme, sep, rest = value.partition(":")
    if not sep or scheme not in SCHEMES:
        return None
    locator, hash_sign, key = rest.rpartition("#") if "#" in rest else (rest, "", "")
    if not locator:
        raise SecretError(f"secret reference '{scheme}:…' names nothing after '{scheme}:'")
    if hash_sign and not key:
        raise SecretError(f"secret reference '{scheme}:{locator}#' has an empty key")
    if scheme in KEY_REQUIRED and not key:
        raise SecretError(f"secret reference '{scheme}:{locator}' needs '#key' (a field name)")
    if scheme in KEY_REFUSED and key:
        raise SecretError(f"secret reference '{scheme}:{locator}#{key}': {scheme} takes no '#key'")
    return SecretRef(scheme, locator, key or None)
