"""Stage 2 — the result cache: answer a repeated run from the stored result of an earlier one.

Only sync runs without a session of agents registered ``cacheable=True`` take part. The key is
a hash of (tenant, agent name, agent version, input), so tenants never share entries and a
changed agent definition (instructions, tools, model, a tenant's model override) never gets an
old answer. Only successful runs are stored. Concurrent identical misses in one process run the
agent once (single flight): the others wait for that run, within their own deadline, and are
answered from its result; if it fails, each of them runs on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable

from agenthost.cache.backend import CacheBackend
from agenthost.execution import deadline
from agenthost.execution.types import RunOutcome, RunState
from agenthost.registry import agent_version
from agenthost.telemetry.metrics import Metrics


def cache_key(state: RunState) -> str:
    """The entry of ``state``'s result (its input a text or a conversation)."""
    entry = state.entry
    version = entry.version if state.agent is entry.agent else agent_version(state.agent)
    material = json.dumps([state.tenant_id, entry.name, version, state.input], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


class ResultCache:
    def __init__(self, backend: CacheBackend | None, metrics: Metrics) -> None:
        self._backend = backend
        self._lookups = metrics.cache_lookups
        self._flights: dict[str, asyncio.Future[bytes | None]] = {}
        """Keys being computed in this process → the encoded result (None: it failed)."""

    def applies(self, state: RunState) -> bool:
        return (
            self._backend is not None
            and state.mode == "sync"
            and state.session is None
            and state.entry.policy.cacheable
            and state.resume is None
        )

    async def through(
        self, state: RunState, compute: Callable[[], Awaitable[RunOutcome]]
    ) -> RunOutcome:
        """The run's outcome from the cache, else from ``compute`` (whose result is stored)."""
        backend = self._backend
        if backend is None or not self.applies(state):
            return await compute()
        key = cache_key(state)
        value = await backend.get(key)
        flight = self._flights.get(key)
        if value is None and flight is not None:
            async with deadline.enforce(state):
                value = await asyncio.shield(flight)
            if value is None:  # the run we waited for failed: run on our own
                return (await self._compute(state, backend, key, compute))[0]
        if value is not None:
            self._lookups.labels(state.entry.name, "hit").inc()
            return answered(state, value)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        result: bytes | None = None  # stays None if the run fails or is cancelled
        try:
            outcome, result = await self._compute(state, backend, key, compute)
            return outcome
        finally:
            del self._flights[key]
            flight.set_result(result)

    async def _compute(
        self,
        state: RunState,
        backend: CacheBackend,
        key: str,
        compute: Callable[[], Awaitable[RunOutcome]],
    ) -> tuple[RunOutcome, bytes | None]:
        self._lookups.labels(state.entry.name, "miss").inc()
        outcome = await compute()
        if outcome.status != "succeeded":  # stopped for approval: not an answer to share
            return outcome, None
        value = encoded(state)
        await backend.set(key, value)
        return outcome, value


def encoded(state: RunState) -> bytes:
    return json.dumps({"output": state.output, "last_agent": state.last_agent}).encode()


def answered(state: RunState, value: bytes) -> RunOutcome:
    """``state`` answered from a cached ``value``: no model call, no tokens."""
    stored = json.loads(value)
    state.output, state.last_agent = stored["output"], stored["last_agent"]
    state.cached = True
    return state.outcome()
