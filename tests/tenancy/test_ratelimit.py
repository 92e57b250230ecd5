"""Rate limits per key, per tenant and per IP, in memory or shared through Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import ConnectionPool

from agenthost.errors import DependencyUnavailable, RateLimited
from agenthost.settings import Settings
from agenthost.tenancy.principal import Principal
from agenthost.tenancy.ratelimit import RateLimits
from tests.tenancy.states import principal

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
GENEROUS = "1000/minute"


def _limits(pool: ConnectionPool | None = None, **settings: str) -> RateLimits:
    values = {
        "rate_limit_per_key": GENEROUS,
        "rate_limit_per_tenant": GENEROUS,
        "rate_limit_per_ip": GENEROUS,
        **settings,
    }
    return RateLimits(Settings(**values), pool)  # type: ignore[arg-type]


async def _refusal(limits: RateLimits, who: Principal) -> RateLimited:
    with pytest.raises(RateLimited) as info:
        await limits.for_principal(who)
    return info.value


async def test_the_key_limit_refuses_the_fourth_request() -> None:
    limits = _limits(rate_limit_per_key="3/minute")
    assert limits.backend == "memory"
    who = principal("acme", key_id="key_1")
    windows = [await limits.for_principal(who) for _ in range(3)]
    assert [w.remaining for w in windows if w is not None] == [2, 1, 0]
    assert windows[0] is not None
    assert windows[0].headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "2",
        "RateLimit-Reset": str(windows[0].reset_s),
    }
    error = await _refusal(limits, who)
    assert error.status == 429
    assert error.details["limit_scope"] == "key"
    assert error.retry_after is not None
    assert 1 <= error.retry_after <= 60
    assert error.headers["RateLimit-Limit"] == "3"
    assert error.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(error.headers["RateLimit-Reset"]) <= 60
    # Another key of the same tenant has its own count.
    assert await limits.for_principal(principal("acme", key_id="key_2")) is not None


async def test_the_tenant_limit_spans_its_keys() -> None:
    limits = _limits(rate_limit_per_tenant="3/minute")
    first, second = principal("acme", key_id="key_1"), principal("acme", key_id="key_2")
    await limits.for_principal(first)
    await limits.for_principal(first)
    window = await limits.for_principal(second)
    assert window is not None
    assert (window.limit, window.remaining) == (3, 0)  # the tightest window is reported
    assert (await _refusal(limits, second)).details["limit_scope"] == "tenant"
    assert await limits.for_principal(principal("other", key_id="key_3")) is not None


async def test_a_key_over_its_own_limit_does_not_use_up_its_tenants() -> None:
    limits = _limits(rate_limit_per_tenant="3/minute")
    other = principal("acme", key_id="key_2")
    greedy = Principal(other.tenant, "key_1", frozenset(), rate_limit="1/minute")
    await limits.for_principal(greedy)
    for _ in range(3):
        assert (await _refusal(limits, greedy)).details["limit_scope"] == "key"
    await limits.for_principal(other)
    await limits.for_principal(other)
    assert (await _refusal(limits, other)).details["limit_scope"] == "tenant"


async def test_a_tenant_or_key_limit_of_its_own_wins_over_the_default() -> None:
    limits = _limits(rate_limit_per_key="100/minute", rate_limit_per_tenant="100/minute")
    strict_tenant = principal("acme", key_id="key_1", rate_limit="1/minute")
    await limits.for_principal(strict_tenant)
    assert (await _refusal(limits, strict_tenant)).details["limit_scope"] == "tenant"

    strict_key = Principal(principal("other").tenant, "key_2", frozenset(), "2/minute")
    await limits.for_principal(strict_key)
    await limits.for_principal(strict_key)
    error = await _refusal(limits, strict_key)
    assert error.details["limit_scope"] == "key"
    assert error.headers["RateLimit-Limit"] == "2"


async def test_without_a_key_only_the_tenant_is_counted() -> None:
    limits = _limits(rate_limit_per_key="1/minute", rate_limit_per_tenant="2/minute")
    dev = principal("dev")
    await limits.for_principal(dev)
    await limits.for_principal(dev)
    assert (await _refusal(limits, dev)).details["limit_scope"] == "tenant"


async def test_the_ip_limit() -> None:
    limits = _limits(rate_limit_per_ip="3/minute")
    for _ in range(3):
        assert await limits.for_ip("192.0.2.1") is not None
    with pytest.raises(RateLimited) as info:
        await limits.for_ip("192.0.2.1")
    assert info.value.details["limit_scope"] == "ip"
    assert await limits.for_ip("192.0.2.2") is not None


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window", "sliding-window-counter"])
async def test_every_strategy_counts_in_memory(strategy: str) -> None:
    limits = _limits(rate_limit_strategy=strategy, rate_limit_per_key="2/minute")
    who = principal("acme", key_id="key_1")
    windows = [await limits.for_principal(who) for _ in range(2)]
    assert [w.remaining for w in windows if w is not None] == [1, 0]
    assert (await _refusal(limits, who)).details["limit_scope"] == "key"
    assert await limits.check_storage()


async def test_counting_in_memory_starts_no_task() -> None:
    """The asyncio memory storage of ``limits`` starts a task per request (and from it a thread
    hop per limit) to expire entries; the synchronous one used instead does not."""
    limits = _limits()
    for _ in range(3):
        await limits.for_principal(principal("acme", key_id="key_1"))
        assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.fixture
async def pools() -> AsyncIterator[list[ConnectionPool]]:
    opened: list[ConnectionPool] = []
    yield opened
    for pool in opened:
        await pool.aclose()


@pytest.fixture
def pool_for(pools: list[ConnectionPool]) -> Callable[[str], ConnectionPool]:
    def open_pool(url: str) -> ConnectionPool:
        pool = ConnectionPool.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        pools.append(pool)
        return pool

    return open_pool


@pytest.mark.integration
async def test_replicas_share_limits_through_redis(
    redis_url: str, pool_for: Callable[[str], ConnectionPool]
) -> None:
    one = _limits(pool_for(redis_url), rate_limit_per_key="3/minute")
    two = _limits(pool_for(redis_url), rate_limit_per_key="3/minute")
    assert one.backend == two.backend == "redis"
    who = principal("acme", key_id="key_1")
    await one.for_principal(who)
    await two.for_principal(who)
    window = await one.for_principal(who)
    assert window is not None
    assert window.remaining == 0
    assert (await _refusal(two, who)).details["limit_scope"] == "key"
    assert await one.check_storage()
    assert one.healthy


async def test_unreachable_redis_fails_open(pool_for: Callable[[str], ConnectionPool]) -> None:
    limits = _limits(pool_for(UNREACHABLE_REDIS), redis_failure_mode="open")
    who = principal("acme", key_id="key_1")
    assert limits.healthy
    assert await limits.for_principal(who) is None
    assert not limits.healthy
    assert await limits.for_principal(who) is None
    assert await limits.for_ip("192.0.2.1") is None
    assert not await limits.check_storage()


async def test_unreachable_redis_fails_closed(pool_for: Callable[[str], ConnectionPool]) -> None:
    limits = _limits(pool_for(UNREACHABLE_REDIS), redis_failure_mode="closed")
    for _ in range(2):  # the first failure, then the cool-down that skips Redis
        with pytest.raises(DependencyUnavailable) as info:
            await limits.for_principal(principal("acme", key_id="key_1"))
        assert info.value.status == 503
        assert info.value.retry_after is not None
    assert not limits.healthy
    with pytest.raises(DependencyUnavailable):
        await limits.for_ip("192.0.2.1")


async def test_an_outage_is_logged_once_whoever_notices_it_first(
    pool_for: Callable[[str], ConnectionPool], caplog: pytest.LogCaptureFixture
) -> None:
    limits = _limits(pool_for(UNREACHABLE_REDIS), redis_failure_mode="open")
    with caplog.at_level(logging.WARNING, logger="agenthost.tenancy.ratelimit"):
        assert not await limits.check_storage()  # a readiness probe, before any request
        assert await limits.for_principal(principal("acme", key_id="key_1")) is None
        assert not await limits.check_storage()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["rate limit storage unreachable (ping failed); failing open: no rate limits"]
