"""``Model`` wrapper that consults and feeds a deployment's circuit breaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from agenthost.classify import classify
from agenthost.errors import CircuitOpen, ErrorCode
from agenthost.models.breaker import CircuitBreaker

# Failures that say something about the deployment's health (not about the request).
_HEALTH_CODES = frozenset({ErrorCode.UPSTREAM_UNAVAILABLE})


class BreakerModel(Model):
    """Fails fast with CIRCUIT_OPEN while the breaker is open; records every outcome."""

    def __init__(self, inner: Model, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker

    def _admit(self) -> None:
        if not self.breaker.allow():
            raise CircuitOpen(
                f"deployment {self.breaker.name!r} is failing; circuit open",
                retry_after=self.breaker.retry_after() or 1.0,
                details={"deployment": self.breaker.name},
            )

    def _settle(self, exc: BaseException | None) -> None:
        if exc is None:
            self.breaker.record_success()
        elif isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
            self.breaker.release_probe()
        elif classify(exc).code in _HEALTH_CODES:
            self.breaker.record_failure()
        else:
            # The deployment answered (e.g. 400): it is alive, the request was bad.
            self.breaker.record_success()

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self._admit()
        try:
            response = await self.inner.get_response(*args, **kwargs)
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle(None)
        return response

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        self._admit()
        try:
            async for event in self.inner.stream_response(*args, **kwargs):
                yield event
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle(None)

    async def close(self) -> None:
        await self.inner.close()
