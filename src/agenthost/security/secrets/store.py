"""The process's secrets: every setting that references one, resolved, cached and refreshed.

:meth:`SecretStore.load` resolves each reference at start-up, and a configured provider that
cannot be reached, or lacks the secret, stops start-up with a message naming the setting and
the reference (never a value). :meth:`keep_refreshing` fetches them again every
``secrets_refresh_s`` in the background, so a rotated secret is used from then on; a failed
refresh keeps the last value and is logged. Consumers ask :meth:`reveal` at the moment they
need a value (the model clients do so on every call).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from agenthost.security.secrets.providers import SecretProvider
from agenthost.security.secrets.references import SecretError, SecretRef, parse_reference
from agenthost.settings import ConfigError

logger = logging.getLogger(__name__)


def secret_settings(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, SecretStr]]:
    """``(setting path, value)`` of every SecretStr in ``model``, nested ones included."""
    for name in type(model).model_fields:
        yield from _secrets_in(getattr(model, name), prefix + name)


def _secrets_in(value: Any, path: str) -> Iterator[tuple[str, SecretStr]]:
    if isinstance(value, SecretStr):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from secret_settings(value, path + ".")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secrets_in(item, f"{path}.{index}")


class SecretStore:
    def __init__(self, providers: Mapping[str, SecretProvider], refresh_s: float) -> None:
        self._providers = dict(providers)
        self._refresh_s = refresh_s
        self._values: dict[SecretRef, str] = {}

    def load(self, secrets: Iterable[tuple[str, SecretStr]]) -> None:
        """Resolve every reference among ``secrets``; ConfigError names the failing setting."""
        for path, secret in secrets:
            try:
                ref = parse_reference(secret.get_secret_value())
                if ref is not None and ref not in self._values:
                    self._values[ref] = self._fetch(ref)
            except SecretError as exc:
                raise ConfigError(f"secret setting {path}: {exc}") from None

    def reveal(self, secret: SecretStr | None) -> str | None:
        """The value ``secret`` stands for: the referenced secret's latest, or itself."""
        if secret is None:
            return None
        raw = secret.get_secret_value()
        ref = parse_reference(raw)
        if ref is None:
            return raw
        try:
            return self._values[ref]
        except KeyError:
            raise SecretError(f"{ref}: not loaded at start-up") from None

    async def refresh(self) -> None:
        """Fetch every loaded secret again; a failure keeps the previous value."""
        for ref in list(self._values):
            try:
                value = await asyncio.to_thread(self._fetch, ref)
            except SecretError as exc:
                logger.warning("secret refresh failed, keeping the previous value: %s", exc)
                continue
            if value != self._values[ref]:
                logger.info("secret %s changed; using the new value", ref)
                self._values[ref] = value

    async def keep_refreshing(self) -> None:
        """Refresh every ``refresh_s`` until cancelled (nothing to do without references)."""
        while self._values:
            await asyncio.sleep(self._refresh_s)
            await self.refresh()

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()

    def _fetch(self, ref: SecretRef) -> str:
        provider = self._providers.get(ref.scheme)
        if provider is None:
            raise SecretError(f"{ref}: {ref.scheme} secrets are not configured")
        return provider.fetch(ref)
