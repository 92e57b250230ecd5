"""Completion webhooks of background runs, signed with HMAC-SHA256.

The body is the run's record as JSON. The header ``X-AgentHost-Signature: t=<unix time>,
v1=<hex>`` carries ``HMAC-SHA256(key, "<t>.<body>")``: receivers recompute it over the raw
body, compare in constant time, and reject old timestamps (replays). Delivery is a durable
step, retried with backoff on failure and never repeated once it succeeded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx2

from agenthost.errors import ValidationFailed
from agenthost.settings import Settings

SIGNATURE_HEADER = "X-AgentHost-Signature"
MAX_URL_CHARS = 2048


class WebhookRefused(Exception):
    """The webhook's address or answer is not acceptable; the step is retried."""


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(key: bytes, header: str, body: bytes) -> bool:
    """Check a signature header (for receivers written in Python, and for tests)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(key, timestamp, body), header)


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def check_url(url: str, settings: Settings) -> str:
    """Refuse (422) a webhook URL that cannot or must not be delivered to."""

    def refuse(message: str, kind: str) -> ValidationFailed:
        return ValidationFailed.for_field("webhook_url", message, kind)

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:
        raise refuse("must be an http(s) URL with a host", "url") from None
    if len(url) > MAX_URL_CHARS or parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("must be an http(s) URL with a host", "url")
    try:
        literal = _private(parts.hostname)
    except ValueError:  # a name, checked when it is resolved at delivery
        literal = parts.hostname == "localhost"
    if literal and not settings.webhook_allow_private:
        raise refuse("private, loopback and link-local addresses are not allowed", "address")
    if settings.webhook_signing_key is None:
        raise refuse("webhooks need the server's webhook_signing_key setting", "unavailable")
    return url


class Webhooks:
    def __init__(self, settings: Settings) -> None:
        key = settings.webhook_signing_key
        self._key = key.get_secret_value().encode() if key is not None else b""
        self._allow_private = settings.webhook_allow_private
        self._timeout_s = settings.webhook_timeout_s
        self._client: httpx2.AsyncClient | None = None  # made at the first delivery

    async def deliver(self, url: str, payload: dict[str, Any]) -> int:
        """POST ``payload`` to ``url``, signed; its status, or WebhookRefused."""
        parts = urlsplit(url)
        if not self._allow_private:
            await self._check_resolved(parts.hostname or "", parts.port)
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._key, int(time.time()), body),
            "X-AgentHost-Run-ID": str(payload.get("run_id", "")),
        }
        if self._client is None:
            self._client = httpx2.AsyncClient(timeout=self._timeout_s)
        try:  # the whole attempt is bounded, not only each read (a slow drip of bytes)
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(url, content=body, headers=headers)
        except (httpx2.HTTPError, TimeoutError) as exc:
            raise WebhookRefused(f"webhook delivery failed: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise WebhookRefused(f"webhook answered {response.status_code}")
        return response.status_code

    async def _check_resolved(self, host: str, port: int | None) -> None:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port or 443)
        except OSError as exc:
            raise WebhookRefused(f"webhook host does not resolve: {exc}") from None
        if any(_private(str(info[4][0])) for info in infos):
            raise WebhookRefused("webhook host resolves to a private address")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
