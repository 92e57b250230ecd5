"""The memory cache: each eviction policy, the time to live and both bounds."""

from __future__ import annotations

import pytest

from agenthost.cache.memory import MemoryCache, Policy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cache(policy: Policy = "lru", **bounds: int) -> tuple[MemoryCache, Clock, list[None]]:
    clock, evicted = Clock(), []
    built = MemoryCache(
        policy=policy,
        ttl_s=10,
        max_entries=bounds.get("max_entries", 3),
        max_bytes=bounds.get("max_bytes", 1000),
        clock=clock,
        on_evict=lambda: evicted.append(None),
    )
    return built, clock, evicted


async def keys(c: MemoryCache, *names: str) -> list[str]:
    return [n for n in names if await c.get(n) is not None]


async def test_lru_evicts_the_least_recently_used() -> None:
    c, _, evicted = cache("lru")
    for k in "abc":
        await c.set(k, k.encode())
    assert await c.get("a") == b"a"  # a is now the most recent
    await c.set("d", b"d")
    assert await keys(c, *"abcd") == ["a", "c", "d"]
    assert len(evicted) == 1 and c.stats.evictions == 1


async def test_fifo_evicts_the_oldest_written_whatever_was_read() -> None:
    c, _, _ = cache("fifo")
    for k in "abc":
        await c.set(k, k.encode())
    await c.get("a")
    await c.set("d", b"d")
    assert await keys(c, *"abcd") == ["b", "c", "d"]


async def test_lfu_evicts_the_least_frequently_read() -> None:
    c, _, _ = cache("lfu")
    for k in "abc":
        await c.set(k, k.encode())
    for k in "aab":  # a read twice, b once, c never
        await c.get(k)
    await c.set("d", b"d")
    assert await keys(c, *"abd") == ["a", "b", "d"]
    assert await c.get("c") is None
    await c.get("d")
    await c.get("d")  # d now read 3 times (2 + the check above), b 2: b goes next
    await c.set("e", b"e")
    assert await c.get("b") is None and await c.get("e") == b"e"


async def test_lfu_breaks_ties_by_recency() -> None:
    c, _, _ = cache("lfu")
    for k in "abc":
        await c.set(k, k.encode())
    await c.set("d", b"d")  # all equal: a, the least recent, goes
    assert await c.get("a") is None


@pytest.mark.parametrize("policy", ["lru", "lfu", "fifo"])
async def test_entries_expire_after_the_ttl(policy: Policy) -> None:
    c, clock, evicted = cache(policy)
    await c.set("a", b"1")
    clock.now = 9.9
    await c.set("b", b"2")
    assert await c.get("a") == b"1"
    clock.now = 10.0
    assert await c.get("a") is None
    assert await c.get("b") == b"2"
    assert c.stats.expirations == 1 and c.stats.entries == 1 and not evicted


async def test_rewriting_a_key_renews_it() -> None:
    c, clock, _ = cache()
    await c.set("a", b"1")
    clock.now = 8
    await c.set("a", b"22")
    clock.now = 12
    assert await c.get("a") == b"22"
    assert c.stats.entries == 1 and c.stats.bytes == 2


@pytest.mark.parametrize("policy", ["lru", "lfu", "fifo"])
async def test_the_byte_bound_evicts_until_the_total_fits(policy: Policy) -> None:
    c, _, evicted = cache(policy, max_entries=100, max_bytes=10)
    await c.set("a", b"1234")
    await c.set("b", b"1234")
    await c.set("c", b"123456")  # 14 bytes: a must go
    assert await c.get("a") is None and await c.get("c") == b"123456"
    assert c.stats.bytes == 10 and len(evicted) == 1


async def test_a_value_larger_than_the_bound_is_not_stored() -> None:
    c, _, evicted = cache(max_bytes=4)
    await c.set("a", b"12")
    await c.set("big", b"12345")
    assert await c.get("big") is None and await c.get("a") == b"12"
    assert not evicted
