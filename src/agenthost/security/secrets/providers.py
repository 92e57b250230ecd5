"""Where secrets come from: the environment and files (always), Vault and AWS (extras).

A provider's ``fetch`` is blocking (the Vault and AWS clients are synchronous); the store calls
it at start-up and from a worker thread when it refreshes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from agenthost.security.secrets.references import SecretError, SecretRef


class SecretProvider(Protocol):
    def fetch(self, ref: SecretRef) -> str:
        """The secret's current value; SecretError (naming ``ref``, not a value) if it cannot."""
        ...

    def close(self) -> None: ...


class EnvProvider:
    """``env:NAME``: a variable of the environment the process started with."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = dict(environ)

    def fetch(self, ref: SecretRef) -> str:
        value = self._environ.get(ref.locator)
        if not value:
            raise SecretError(f"{ref}: environment variable {ref.locator} is not set")
        return value

    def close(self) -> None:
        return None


class FileProvider:
    """``file:/path``: a file's content without its trailing newline, read afresh each time,
    so a Kubernetes secret volume's updates are picked up."""

    def fetch(self, ref: SecretRef) -> str:
        try:
            value = Path(ref.locator).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise SecretError(f"{ref}: cannot read the file ({reason})") from None
        if not value:
            raise SecretError(f"{ref}: the file is empty")
        return value

    def close(self) -> None:
        return None


def field_of(ref: SecretRef, data: object) -> str:
    """``data[ref.key]`` as a string (the whole of ``data`` when the reference has no key)."""
    if ref.key is None:
        if isinstance(data, str) and data:
            return data
        raise SecretError(f"{ref}: the secret is not a non-empty string; name a field with #key")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise SecretError(f"{ref}: the secret is not JSON, so it has no fields") from None
    if not isinstance(data, dict):
        raise SecretError(f"{ref}: the secret has no fields")
    value = data.get(ref.key)
    if not isinstance(value, str) or not value:
        raise SecretError(f"{ref}: the secret has no non-empty string field {ref.key!r}")
    return value
