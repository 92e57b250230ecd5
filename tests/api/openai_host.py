"""agenthost served on loopback with the example agents (the mock LLM behind them), a tenant
and its key, and the official ``openai`` client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from openai import AsyncOpenAI

from agenthost.registry import load_registry
from tests.api.tenants import IssuedKey, tenant_with_key

Host = Callable[..., Any]


@dataclass
class Hosted:
    url: str
    app: Any
    key: IssuedKey
    client: AsyncOpenAI
    http: httpx2.AsyncClient

    def openai(self, api_key: str) -> AsyncOpenAI:
        """Another client of the same server, with ``api_key``."""
        return AsyncOpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0)


def hosting(agenthost_client: Callable[..., Any]) -> Host:
    """``async with host(tenant limits..., **settings) as hosted:``"""

    @asynccontextmanager
    async def host(limits: dict[str, Any] | None = None, **settings: Any) -> AsyncIterator[Hosted]:
        registry = load_registry("examples.registry:registry")
        async with agenthost_client(registry, dev_mode=False, **settings) as (http, app):
            key = await tenant_with_key(app, "acme", **(limits or {}))
            url = str(http.base_url).rstrip("/")
            client = AsyncOpenAI(base_url=f"{url}/v1", api_key=key.plaintext, max_retries=0)
            async with client:
                yield Hosted(url, app, key, client, http)

    return host
