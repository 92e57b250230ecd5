from collections import Counter

import pytest
from agents.models.interface import Model

from agenthost.errors import CircuitOpen
from agenthost.models.breaker import BreakerConfig, CircuitBreaker
from agenthost.models.breaker_model import BreakerModel
from agenthost.models.router import Deployment, RouterModel


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
