"""Stage 2, the result cache, in the pipeline: what is cached, for whom, and single flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from agents import Agent
from agents.testing import ModelStep, ScriptedModel, assistant_message
from agents.usage import Usage

from agenthost.cache.memory import MemoryCache
from agenthost.container import Container
from agenthost.errors import AgentHostError, ErrorCode
from agenthost.execution.cache import ResultCache, cache_key
from agenthost.execution.types import RunOutcome, RunRequest, RunState
from agenthost.registry import AgentRegistry
from agenthost.settings import Settings
from agenthost.store.repositories import runs
from agenthost.telemetry.metrics import Metrics
from agenthost.tenancy.principal import DEV_TENANT, Principal, Scope, Tenant
from tests.telemetry.scrape import value

Build = Callable[..., Awaitable[Container]]
DEV = Principal(Tenant(DEV_TENANT), None, frozenset(Scope))
USAGE = Usage(requests=1, input_tokens=10, output_tokens=5, total_tokens=15)


def req(text: str = "go", session_id: str | None = None) -> RunRequest:
    return RunRequest(agent="a", input=text, principal=DEV, session_id=session_id)


def answers(*texts: str) -> ScriptedModel:
    return ScriptedModel([ModelStep(output=[assistant_message(t)], usage=USAGE) for t in texts])


def lookups(container: Container, result: str) -> float:
    return value(container.metrics, "agenthost_cache_lookups_total", agent="a", result=result)


async def test_a_repeated_run_is_answered_from_the_cache_and_recorded(
    container_for: Build,
) -> None:
    model = answers("first")
    container = await container_for(Agent(name="a", model=model), cacheable=True)
    first = await container.pipeline.run(req())
    second = await container.pipeline.run(req())
    assert (first.output, first.cached, first.usage.total_tokens) == ("first", False, 15)
    assert (second.output, second.cached, second.usage.total_tokens) == ("first", True, 0)
    assert second.last_agent == "a" and second.run_id != first.run_id
    assert len(model.calls) == 1
    assert (lookups(container, "miss"), lookups(container, "hit")) == (1, 1)
    async with container.db.transaction() as tx:
        record = await runs.get(tx, DEV_TENANT, second.run_id)
    assert record is not None and record.status == "succeeded" and record.cached
    assert record.total_tokens == 0
    assert container.lifecycle.in_flight == 0


async def test_other_inputs_miss(container_for: Build) -> None:
    container = await container_for(Agent(name="a", model=answers("1", "2")), cacheable=True)
    assert (await container.pipeline.run(req("x"))).output == "1"
    assert (await container.pipeline.run(req("y"))).output == "2"


@pytest.mark.parametrize(
    ("policy", "session"),
    [({}, None), ({"cacheable": True}, "s1")],
    ids=["not-cacheable", "session"],
)
async def test_uncacheable_runs_always_run(
    container_for: Build, policy: dict[str, Any], session: str | None
) -> None:
    model = answers("1", "2")
    container = await container_for(Agent(name="a", model=model), **policy)
    await container.pipeline.run(req(session_id=session))
    second = await container.pipeline.run(req(session_id=session))
    assert second.output == "2" and not second.cached and len(model.calls) == 2
    assert lookups(container, "miss") == lookups(container, "hit") == 0


async def test_failed_runs_are_not_cached(container_for: Build) -> None:
    model = ScriptedModel([ModelStep.raise_error(ValueError("boom"))])
    model.extend([ModelStep(output=[assistant_message("ok")])])
    container = await container_for(Agent(name="a", model=model), cacheable=True)
    with pytest.raises(AgentHostError):
        await container.pipeline.run(req())
    assert (await container.pipeline.run(req())).output == "ok"


async def test_streamed_runs_are_not_answered_from_the_cache(container_for: Build) -> None:
    model = answers("1", "2")
    container = await container_for(Agent(name="a", model=model), cacheable=True)
    await container.pipeline.run(req())
    stream = await container.pipeline.open_stream(req())
    final = [e async for e in stream.events()][-1]
    assert final.data["output"] == "2"


def gated(output: str, gate: asyncio.Event, entered: asyncio.Event) -> ModelStep:
    async def respond(call: Any) -> ModelStep:
        entered.set()
        await gate.wait()
        return ModelStep(output=[assistant_message(output)])

    return ModelStep.respond(respond)


async def test_concurrent_identical_misses_run_the_agent_once(container_for: Build) -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    model = ScriptedModel([gated("once", gate, entered)])
    container = await container_for(Agent(name="a", model=model), cacheable=True)
    tasks = [asyncio.create_task(container.pipeline.run(req())) for _ in range(5)]
    await entered.wait()
    gate.set()
    outcomes = await asyncio.gather(*tasks)
    assert [o.output for o in outcomes] == ["once"] * 5
    assert sorted(o.cached for o in outcomes) == [False] + [True] * 4
    assert len(model.calls) == 1
    assert (lookups(container, "miss"), lookups(container, "hit")) == (1, 4)


class WatchedMemory(MemoryCache):
    """A memory cache that tells when it has been looked up ``expected`` times."""

    def __init__(self, expected: int) -> None:
        super().__init__(policy="lru", ttl_s=60, max_entries=10, max_bytes=10_000)
        self.looked_up = asyncio.Event()
        self._left = expected

    async def get(self, key: str) -> bytes | None:
        self._left -= 1
        if self._left == 0:
            self.looked_up.set()
        return await super().get(key)


async def test_waiters_run_on_their_own_when_the_first_run_fails() -> None:
    backend = WatchedMemory(expected=3)
    cache = ResultCache(backend, Metrics())
    agent = Agent(name="a", model="m")
    gate, computed = asyncio.Event(), []

    async def compute(state: RunState, fail: bool) -> RunOutcome:
        computed.append(state)
        await gate.wait()
        if fail:
            raise ValueError("boom")
        state.output = "ok"
        return state.outcome()

    first_state = state_for(agent)
    first = asyncio.create_task(cache.through(first_state, lambda: compute(first_state, True)))
    waiters = []
    for _ in range(2):
        state = state_for(agent)
        waiters.append(asyncio.create_task(cache.through(state, partial(compute, state, False))))
    await backend.looked_up.wait()  # after its lookup, a waiter waits for the first run
    assert len(computed) == 1
    gate.set()
    with pytest.raises(ValueError, match="boom"):
        await first
    outcomes = await asyncio.gather(*waiters)
    assert [(o.output, o.cached) for o in outcomes] == [("ok", False)] * 2
    assert len(computed) == 3
    assert await backend.get(cache_key(first_state)) is not None


async def test_a_waiter_keeps_its_own_deadline() -> None:
    cache = ResultCache(
        MemoryCache(policy="lru", ttl_s=60, max_entries=10, max_bytes=10_000), Metrics()
    )
    agent = Agent(name="a", model="m")
    gate, entered = asyncio.Event(), asyncio.Event()
    first_state = state_for(agent)

    async def compute() -> RunOutcome:
        entered.set()
        await gate.wait()
        first_state.output = "late"
        return first_state.outcome()

    first = asyncio.create_task(cache.through(first_state, compute))
    await entered.wait()
    waiter = state_for(agent)
    waiter.timeout_s = 0.05
    with pytest.raises(AgentHostError) as info:
        await cache.through(waiter, compute)
    assert info.value.code is ErrorCode.RUN_TIMEOUT
    gate.set()
    assert (await first).output == "late"


def state_for(agent: Agent[Any], tenant: str = "t1", text: str = "hi") -> RunState:
    registry = AgentRegistry()
    registry.register(agent, cacheable=True)
    entry = registry.get(agent.name)
    principal = Principal(Tenant(tenant), None, frozenset(Scope))
    request = RunRequest(agent=entry.name, input=text, principal=principal)
    return RunState(request, entry, entry.agent, text, 30, 0.8, 10, None)


def test_keys_separate_tenants_inputs_and_agent_versions() -> None:
    agent = Agent(name="a", instructions="be brief", model="m")
    base = cache_key(state_for(agent))
    assert cache_key(state_for(agent)) == base
    assert cache_key(state_for(agent, tenant="t2")) != base
    assert cache_key(state_for(agent, text="other")) != base
    assert cache_key(state_for(agent.clone(instructions="be long"))) != base
    overridden = state_for(agent)
    overridden.agent = agent.clone(model="other-model")  # a tenant's model override
    assert cache_key(overridden) != base


@pytest.mark.integration
async def test_replicas_share_the_redis_cache(container_for: Build, redis_url: str) -> None:
    settings = Settings(demo_model=True, cache_backend="redis", redis_url=redis_url)
    one = await container_for(Agent(name="a", model=answers("shared")), settings, cacheable=True)
    other_model = answers()
    other = await container_for(Agent(name="a", model=other_model), settings, cacheable=True)
    assert (await one.pipeline.run(req())).output == "shared"
    outcome = await other.pipeline.run(req())
    assert outcome.output == "shared" and outcome.cached and not other_model.calls
