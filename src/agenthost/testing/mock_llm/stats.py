"""Counters of the mock LLM server and the pure ASGI middleware that keeps them."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_mock"


@dataclass
class MockLLMStats:
    """Counters over model-facing requests (admin requests are not counted)."""

    total_requests: int = 0
    per_endpoint: Counter[str] = field(default_factory=Counter)
    per_status: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    in_flight: int = 0
    completed_calls: Counter[str] = field(default_factory=Counter)
    """Answers delivered in full, per call: ``<last user text>#<conversation items>``. A call
    answered twice was repeated by its client (a resumed run must not do that)."""
    per_key: Counter[str] = field(default_factory=Counter)
    """Requests per API key presented, by :func:`key_fingerprint` (never the key itself)."""

    def reset(self) -> None:
        """Zero every counter except ``in_flight`` (those requests are still running)."""
        self.total_requests = 0
        self.completed_calls.clear()
        self.per_endpoint.clear()
        self.per_status.clear()
        self.faults.clear()
        self.per_key.clear()
        self.disconnects = 0

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready copy, as served by ``GET /_mock/stats``."""
        return {
            "total_requests": self.total_requests,
            "per_endpoint": dict(self.per_endpoint),
            "per_status": dict(self.per_status),
            "faults": dict(self.faults),
            "disconnects": self.disconnects,
            "in_flight": self.in_flight,
            "completed_calls": dict(self.completed_calls),
            "per_key": dict(self.per_key),
        }


def key_fingerprint(api_key: str) -> str:
    """The first 12 hex digits of the key's SHA-256: tells keys apart without holding them."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" else None
    return None


class StatsMiddleware:
    """Counts requests per endpoint and per response status, and tracks in-flight requests."""

    def __init__(self, app: ASGIApp, stats: MockLLMStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        stats = self.stats
        stats.total_requests += 1
        stats.per_endpoint[f"{scope['method']} {path}"] += 1
        token = _bearer(scope)
        if token is not None:
            stats.per_key[key_fingerprint(token)] += 1
        stats.in_flight += 1

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.per_status[str(message["status"])] += 1
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            stats.in_flight -= 1
