"""``Model`` wrapper bounding one model call on one deployment.

A deployment that accepts connections but never answers would otherwise hold every run until
its deadline, never trip its breaker, and never be failed over. Past ``timeout_s`` the call is
abandoned as UPSTREAM_UNAVAILABLE: the breaker counts it and the retry moves on. For streams
the bound is on the wait for the first event; after that the client's read timeout applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from agenthost.errors import UpstreamUnavailable


class CallTimedOut(UpstreamUnavailable):
    title = "The model call took too long"


class CallTimeoutModel(Model):
    def __init__(self, inner: Model, timeout_s: float, deployment: str) -> None:
        self.inner = inner
        self.timeout_s = timeout_s
        self.deployment = deployment

    def _timed_out(self) -> CallTimedOut:
        return CallTimedOut(
            f"deployment {self.deployment!r} did not answer within {self.timeout_s:g}s",
            details={"deployment": self.deployment},
        )

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        timeout = asyncio.timeout(self.timeout_s)
        try:
            async with timeout:
                return await self.inner.get_response(*args, **kwargs)
        except TimeoutError as exc:
            if timeout.expired():
                raise self._timed_out() from exc
            raise

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        events = aiter(self.inner.stream_response(*args, **kwargs))
        timeout = asyncio.timeout(self.timeout_s)
        try:
            async with timeout:
                first = await anext(events)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            if timeout.expired():
                raise self._timed_out() from exc
            raise
        yield first
        async for event in events:
            yield event

    async def close(self) -> None:
        await self.inner.close()
