"""``Model`` wrapper that retries failed model calls — never whole runs.

Retrying the model call, not ``Runner.run``, means tools that already ran are not run again.
Waits are exponential with full jitter, at least the server's ``Retry-After``, and never extend
past the run's deadline: when the next wait would, the last error is raised instead.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from agenthost.classify import classify
from agenthost.errors import AgentHostError, ErrorCode
from agenthost.models.deadline import remaining_s

logger = logging.getLogger(__name__)

# Retrying these cannot help: the circuit stays open for its cool-down.
_NEVER_RETRY = frozenset({ErrorCode.CIRCUIT_OPEN})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Wait before attempt ``attempt + 1`` (from 1): full jitter, at least Retry-After."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


Sleep = Callable[[float], Awaitable[None]]


class RetryingModel(Model):
    """Retries retriable failures of ``inner`` (a router or a deployment) within the deadline."""

    def __init__(
        self,
        inner: Model,
        policy: RetryPolicy,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        on_retry: Callable[[AgentHostError, float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._on_retry = on_retry

    async def _backoff_or_raise(self, exc: Exception, attempt: int) -> None:
        """Sleep before the next attempt, or re-raise ``exc`` when retrying is not allowed."""
        error = classify(exc)
        if not error.retriable or error.code in _NEVER_RETRY or attempt >= self.policy.max_attempts:
            raise exc
        wait = self.policy.delay(attempt, error.retry_after, self._rng)
        left = remaining_s()
        if left is not None and wait >= left:
            logger.info("not retrying model call: wait %.2fs exceeds the deadline", wait)
            raise exc
        logger.info(
            "retrying model call after %s (attempt %d/%d) in %.2fs",
            error.code.value,
            attempt + 1,
            self.policy.max_attempts,
            wait,
        )
        if self._on_retry is not None:
            self._on_retry(error, wait)
        await self._sleep(wait)

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        attempt = 1
        while True:
            try:
                return await self.inner.get_response(*args, **kwargs)
            except Exception as exc:
                await self._backoff_or_raise(exc, attempt)
            attempt += 1

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        """Retry only while nothing has been streamed; a broken stream cannot be resumed."""
        attempt = 1
        while True:
            started = False
            try:
                async for event in self.inner.stream_response(*args, **kwargs):
                    started = True
                    yield event
                return
            except Exception as exc:
                if started:
                    raise
                await self._backoff_or_raise(exc, attempt)
            attempt += 1

    async def close(self) -> None:
        await self.inner.close()
