import asyncio
from collections import Counter

import pytest
from agents.models.interface import Model

from agenthost.errors import CircuitOpen, UpstreamUnavailable, ValidationFailed
from agenthost.models.breaker import BreakerConfig, CircuitBreaker
from agenthost.models.breaker_model import BreakerModel
from agenthost.models.deadline import reset_deadline, set_deadline
from agenthost.models.router import Deployment, RouterModel
from agenthost.models.routing import EWMA_ALPHA, EXPLORE_EVERY, Strategy


class Named(Model):
    def __init__(self, name: str) -> None:
        self.name = name

    async def get_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.name

    async def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        yield self.name


def deployment(name: str, weight: int = 1) -> Deployment:
    breaker = CircuitBreaker(name, BreakerConfig(failure_threshold=1, window_s=60, cooldown_s=60))
    return Deployment(name, BreakerModel(Named(name), breaker), weight)


async def test_weighted_round_robin_spreads_by_weight() -> None:
    router = RouterModel("m", [deployment("a", 3), deployment("b", 1)])
    picks = Counter([await router.get_response() for _ in range(40)])
    assert picks == {"a": 30, "b": 10}


async def test_skips_open_deployments_and_fails_fast_when_all_are_open() -> None:
    a, b = deployment("a"), deployment("b")
    router = RouterModel("m", [a, b])
    a.model.breaker.record_failure()
    assert {await router.get_response() for _ in range(4)} == {"b"}
    b.model.breaker.record_failure()
    with pytest.raises(CircuitOpen) as info:
        await router.get_response()
    assert info.value.retry_after and info.value.retry_after > 59


class Failing(Model):
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def get_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise self.error

    async def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise self.error
        yield  # a generator


class Gated(Named):
    """Answers its name once the gate opens; counts calls in progress."""

    def __init__(self, name: str, gate: asyncio.Event, entered: asyncio.Queue[str]) -> None:
        super().__init__(name)
        self.gate, self.entered = gate, entered

    async def get_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.entered.put_nowait(self.name)
        await self.gate.wait()
        return self.name


def wrap(name: str, model: Model, weight: int = 1) -> Deployment:
    breaker = CircuitBreaker(name, BreakerConfig(failure_threshold=5, window_s=60, cooldown_s=60))
    return Deployment(name, BreakerModel(model, breaker), weight)


async def test_least_in_flight_sends_calls_where_fewest_are_in_progress_per_weight() -> None:
    gate, entered = asyncio.Event(), asyncio.Queue[str]()
    a = wrap("a", Gated("a", gate, entered), weight=2)
    b = wrap("b", Gated("b", gate, entered))
    router = RouterModel("m", [a, b], "least_in_flight")
    calls = [asyncio.create_task(router.get_response()) for _ in range(6)]
    started = Counter([await entered.get() for _ in range(6)])
    assert started == {"a": 4, "b": 2}
    assert (a.in_flight, b.in_flight) == (4, 2)
    gate.set()
    await asyncio.gather(*calls)
    assert a.in_flight == b.in_flight == 0


async def test_least_in_flight_takes_turns_when_idle() -> None:
    router = RouterModel("m", [deployment("a"), deployment("b")], "least_in_flight")
    assert [await router.get_response() for _ in range(4)] == ["a", "b", "a", "b"]


async def test_lowest_latency_measures_each_then_prefers_the_fastest() -> None:
    a, b = deployment("a"), deployment("b")
    router = RouterModel("m", [a, b], "lowest_latency")
    assert {await router.get_response() for _ in range(2)} == {"a", "b"}  # both measured
    a.latency_s, b.latency_s = 0.5, 0.1
    picks = [router.pick().name for _ in range(EXPLORE_EVERY * 2)]
    assert picks.count("b") >= len(picks) - 2 and "a" in picks  # a is measured again
    b.in_flight = 9  # 0.1 * 10 > 0.5 * 1: a is now the better choice
    assert router.pick(frozenset()).name == "a"


def test_latency_is_an_ewma_and_failures_count_double() -> None:
    d = deployment("a")
    d.observe(1.0)
    assert d.latency_s == 1.0
    d.observe(2.0)
    assert d.latency_s == pytest.approx(1.0 + EWMA_ALPHA)
    before = d.latency_s
    d.observe(0.001, failed=True)
    assert d.latency_s == pytest.approx(before + EWMA_ALPHA * (before * 2 - before))


@pytest.mark.parametrize("strategy", ["round_robin", "least_in_flight", "lowest_latency"])
async def test_a_retriable_failure_fails_over_at_once(strategy: Strategy) -> None:
    failing = Failing(UpstreamUnavailable("down"))
    router = RouterModel("m", [wrap("a", failing), wrap("b", Named("b"))], strategy)
    answers = [await router.get_response() for _ in range(4)]
    assert answers == ["b"] * 4 and 1 <= failing.calls <= 4


async def test_every_deployment_failing_raises_the_last_error_once_each_was_tried() -> None:
    one, two = Failing(UpstreamUnavailable("one")), Failing(UpstreamUnavailable("two"))
    router = RouterModel("m", [wrap("a", one), wrap("b", two)])
    with pytest.raises(UpstreamUnavailable):
        await router.get_response()
    assert one.calls == two.calls == 1


async def test_a_request_error_does_not_fail_over() -> None:
    bad = Failing(ValidationFailed("bad request"))
    other = Failing(UpstreamUnavailable("unused"))
    router = RouterModel("m", [wrap("a", bad), wrap("b", other)])
    with pytest.raises(ValidationFailed):
        await router.get_response()
    assert other.calls == 0


async def test_no_failover_past_the_deadline() -> None:
    first = Failing(UpstreamUnavailable("down"))
    second = Failing(UpstreamUnavailable("unused"))
    router = RouterModel("m", [wrap("a", first), wrap("b", second)])
    token = set_deadline(asyncio.get_running_loop().time() - 1)
    try:
        with pytest.raises(UpstreamUnavailable):
            await router.get_response()
    finally:
        reset_deadline(token)
    assert second.calls == 0


async def test_a_stream_fails_over_before_its_first_event() -> None:
    failing = Failing(UpstreamUnavailable("down"))
    router = RouterModel("m", [wrap("a", failing), wrap("b", Named("b"))])
    assert [e async for e in router.stream_response()] == ["b"]
    assert failing.calls == 1
