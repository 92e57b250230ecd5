"""The failed-authentication budget per client IP: checked before, spent after, a lookup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import ConnectionPool

from agenthost.errors import DependencyUnavailable, Forbidden, RateLimited, Unauthenticated
from agenthost.settings import Settings
from agenthost.tenancy.auth_failures import FailedAuthentications
from agenthost.tenancy.ratelimit import RateLimits
from tests.waiting import eventually

IP = "192.0.2.1"
KEY = "ahk_000000000000_secret"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _limits(pool: ConnectionPool | None = None, **settings: str) -> RateLimits:
    return RateLimits(Settings(auth_failure_limit="3/minute", **settings), pool)  # type: ignore[arg-type]


async def _fail(failures: FailedAuthentications, ip: str = IP) -> None:
    with pytest.raises(Unauthenticated):
        async with failures.guard(ip, KEY):
            raise Unauthenticated()


async def test_the_budget_is_checked_before_and_spent_by_failures_only() -> None:
    failures = FailedAuthentications(_limits())
    for _ in range(10):  # successes and other refusals spend nothing
        async with failures.guard(IP, KEY):
            pass
    with pytest.raises(Forbidden):
        async with failures.guard(IP, KEY):
            raise Forbidden()
    await failures.count(IP)  # a missing key counts, though nothing is read
    await _fail(failures)
    await _fail(failures)
    entered = False
    with pytest.raises(RateLimited) as info:
        async with failures.guard(IP, KEY):
            entered = True
    assert not entered  # refused before the lookup
    assert info.value.details["limit_scope"] == "auth_failures"
    assert info.value.retry_after is not None and 1 <= info.value.retry_after <= 60
    await failures.count(IP)  # counting without a lookup is never refused
    async with failures.guard("192.0.2.2", KEY):  # another IP has its own
        pass


async def test_lookups_in_flight_count_against_the_budget() -> None:
    """Concurrent fake keys cannot all pass the check before the first one fails."""
    failures = FailedAuthentications(_limits())
    release = asyncio.Event()
    entered = 0

    async def attempt(key: str) -> None:
        nonlocal entered
        async with failures.guard(IP, key):
            entered += 1
            await release.wait()
            raise Unauthenticated()

    attempts = [asyncio.create_task(attempt(f"key {i}")) for i in range(10)]
    # Every attempt either waits inside (its lookup in flight) or was refused by the check.
    await eventually(lambda: entered + sum(a.done() for a in attempts) == len(attempts))
    release.set()
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    assert entered == 3
    assert (
        sorted(type(o).__name__ for o in outcomes) == ["RateLimited"] * 7 + ["Unauthenticated"] * 3
    )
    with pytest.raises(RateLimited):
        async with failures.guard(IP, KEY):
            pass


async def test_requests_waiting_on_one_key_are_one_lookup_in_flight() -> None:
    """Concurrent requests with one key (one lookup, shared by the principal cache) count
    once against the budget while in flight, however many they are."""
    failures = FailedAuthentications(_limits())
    release = asyncio.Event()
    entered = 0

    async def attempt() -> None:
        nonlocal entered
        async with failures.guard(IP, KEY):
            entered += 1
            await release.wait()

    attempts = [asyncio.create_task(attempt()) for _ in range(10)]
    await eventually(lambda: entered == len(attempts))
    release.set()
    await asyncio.gather(*attempts)


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[ConnectionPool]:
    opened = ConnectionPool.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    yield opened
    await opened.aclose()


@pytest.mark.integration
async def test_replicas_share_the_budget_through_redis(pool: ConnectionPool) -> None:
    one, two = (FailedAuthentications(_limits(pool)) for _ in range(2))
    await _fail(one)
    await _fail(two)
    await _fail(one)
    with pytest.raises(RateLimited):
        async with two.guard(IP, KEY):
            pass


async def test_an_unreachable_redis_fails_as_configured() -> None:
    for mode, outcome in (("open", None), ("closed", DependencyUnavailable)):
        pool = ConnectionPool.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
        failures = FailedAuthentications(_limits(pool, redis_failure_mode=mode))
        try:
            if outcome is None:
                async with failures.guard(IP, KEY):
                    pass
            else:
                with pytest.raises(outcome):
                    async with failures.guard(IP, KEY):
                        pass
        finally:
            await pool.aclose()
