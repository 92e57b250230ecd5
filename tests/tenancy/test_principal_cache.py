"""The principal cache: kept for its TTL, one lookup for concurrent misses, failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from agenthost.errors import Unauthenticated
from agenthost.tenancy.principal import Principal, Tenant
from agenthost.tenancy.principal_cache import Authenticated, PrincipalCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Counts lookups; each returns a principal for a new tenant id (so reuse is visible)."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail: BaseException | None = None

    async def __call__(self) -> Authenticated:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return Authenticated(Principal(Tenant(id=f"t{self.calls}"), "k", frozenset()), None)


async def test_a_principal_is_reused_for_its_ttl_then_looked_up_again() -> None:
    clock, load = Clock(), Loader()
    cache = PrincipalCache(2.0, clock=clock)
    assert (await cache.get("d", load)).principal.tenant.id == "t1"
    clock.now += 1.9
    assert (await cache.get("d", load)).principal.tenant.id == "t1"
    clock.now += 0.2
    assert (await cache.get("d", load)).principal.tenant.id == "t2"
    assert load.calls == 2


async def test_concurrent_misses_share_one_lookup() -> None:
    load = Loader()
    load.gate = asyncio.Event()
    cache = PrincipalCache(2.0)
    waiting = [asyncio.create_task(cache.get("d", load)) for _ in range(50)]
    await asyncio.sleep(0)
    load.gate.set()
    found = await asyncio.gather(*waiting)
    assert load.calls == 1
    assert {f.principal.tenant.id for f in found} == {"t1"}


async def test_a_waiter_going_away_does_not_cancel_the_others() -> None:
    load = Loader()
    load.gate = asyncio.Event()
    cache = PrincipalCache(2.0)
    first = asyncio.create_task(cache.get("d", load))
    second = asyncio.create_task(cache.get("d", load))
    await asyncio.sleep(0)
    first.cancel()
    load.gate.set()
    assert (await second).principal.tenant.id == "t1"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_failures_are_not_kept() -> None:
    load = Loader()
    load.fail = Unauthenticated("no")
    cache = PrincipalCache(2.0)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await cache.get("d", load)
    assert load.calls == 2
    load.fail = None
    assert (await cache.get("d", load)).principal.tenant.id == "t3"


async def test_clear_forgets_and_drops_a_lookup_in_flight() -> None:
    load = Loader()
    load.gate = asyncio.Event()
    cache = PrincipalCache(2.0)
    in_flight = asyncio.create_task(cache.get("d", load))
    await asyncio.sleep(0)
    cache.clear()  # e.g. the key was revoked while it was being looked up
    load.gate.set()
    await in_flight
    assert (await cache.get("d", load)).principal.tenant.id == "t2"


async def test_a_request_after_clear_does_not_share_a_lookup_begun_before() -> None:
    """Revoked while a lookup was in flight: a request arriving after the revocation must read
    the database afresh, not wait for the lookup that may have seen the key still valid."""
    before = Loader()
    before.gate = asyncio.Event()
    cache = PrincipalCache(2.0)
    in_flight = asyncio.create_task(cache.get("d", before))
    await asyncio.sleep(0)
    cache.clear()
    after = Loader()
    assert (await cache.get("d", after)).principal.tenant.id == "t1"
    assert after.calls == 1
    before.gate.set()
    await in_flight
    assert (await cache.get("d", after)).principal.tenant.id == "t1"  # the fresh one is kept
    assert after.calls == 1


async def test_cleared_before_the_lookup_even_started() -> None:
    load = Loader()
    cache = PrincipalCache(2.0)
    pending = asyncio.create_task(cache.get("d", load))
    await asyncio.sleep(0)  # the lookup's task is created, not yet run
    cache.clear()
    assert (await pending).principal.tenant.id == "t1"
    assert (await cache.get("d", load)).principal.tenant.id == "t2"


async def test_entries_are_bounded_least_recently_used_first() -> None:
    load = Loader()
    cache = PrincipalCache(60.0, max_entries=2)
    for digest in ("a", "b"):
        await cache.get(digest, load)
    await cache.get("a", load)  # "a" used last: "b" goes first
    await cache.get("c", load)
    assert load.calls == 3
    assert (await cache.get("a", load)).principal.tenant.id == "t1"
    assert (await cache.get("b", load)).principal.tenant.id == "t4"  # evicted, looked up again


async def test_a_zero_ttl_looks_up_every_time() -> None:
    load = Loader()
    cache = PrincipalCache(0.0)
    await cache.get("d", load)
    await cache.get("d", load)
    assert load.calls == 2
