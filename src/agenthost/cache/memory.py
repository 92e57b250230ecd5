"""The in-process result cache: LRU, LFU or FIFO eviction, a time to live, and bounds on the
number of entries and on their total size.

Every entry lives ``ttl_s`` from when it was written, so write order is expiry order: expired
entries are dropped from the front of the write-ordered table as lookups and writes pass, in
time proportional to what expired. The eviction policy decides which live entry goes when a
bound is exceeded; every operation is O(1).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Policy = Literal["lru", "lfu", "fifo"]


@dataclass(slots=True)
class CacheStats:
    entries: int = 0
    bytes: int = 0
    evictions: int = 0
    """Live entries removed to respect a bound (expired entries are not counted)."""
    expirations: int = 0


class _Order(Protocol):
    """Which key the policy evicts next."""

    def add(self, key: str) -> None: ...
    def touch(self, key: str) -> None: ...
    def remove(self, key: str) -> None: ...
    def victim(self) -> str: ...


class _Recency:
    """LRU: the least recently read or written key goes first. FIFO when reads do not count."""

    def __init__(self, *, reads_count: bool) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._reads_count = reads_count

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)

    def touch(self, key: str) -> None:
        if self._reads_count:
            self._keys.move_to_end(key)

    def remove(self, key: str) -> None:
        del self._keys[key]

    def victim(self) -> str:
        return next(iter(self._keys))


class _Frequency:
    """LFU: the key read least often goes first; among equals, the least recently used."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}
        self._buckets: dict[int, OrderedDict[str, None]] = {}
        self._min = 0

    def add(self, key: str) -> None:
        self._count[key] = 1
        self._buckets.setdefault(1, OrderedDict())[key] = None
        self._min = 1

    def touch(self, key: str) -> None:
        count = self._count[key]
        self._unlink(key, count)
        if self._min == count and count not in self._buckets:
            self._min = count + 1
        self._count[key] = count + 1
        self._buckets.setdefault(count + 1, OrderedDict())[key] = None

    def remove(self, key: str) -> None:
        self._unlink(key, self._count.pop(key))
        if self._buckets and self._min not in self._buckets:
            self._min = min(self._buckets)

    def victim(self) -> str:
        return next(iter(self._buckets[self._min]))

    def _unlink(self, key: str, count: int) -> None:
        bucket = self._buckets[count]
        del bucket[key]
        if not bucket:
            del self._buckets[count]


def _order(policy: Policy) -> _Order:
    if policy == "lfu":
        return _Frequency()
    return _Recency(reads_count=policy == "lru")


class MemoryCache:
    """One process's cache. Not shared between ``serve --workers`` processes."""

    def __init__(
        self,
        *,
        policy: Policy,
        ttl_s: float,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[], None] | None = None,
    ) -> None:
        self._order = _order(policy)
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._on_evict = on_evict
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        """key → (expiry, value), in write order (which is expiry order)."""
        self.stats = CacheStats()

    async def get(self, key: str) -> bytes | None:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._order.touch(key)
        return entry[1]

    async def set(self, key: str, value: bytes) -> None:
        self._expire()
        if key in self._entries:
            self._remove(key)
        size = len(value)
        if size > self._max_bytes:
            return  # could never fit
        # Make room first, so that the new entry is never its own victim (LFU).
        stats = self.stats
        while stats.entries >= self._max_entries or stats.bytes + size > self._max_bytes:
            self._remove(self._order.victim())
            stats.evictions += 1
            if self._on_evict is not None:
                self._on_evict()
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._order.add(key)
        stats.entries += 1
        stats.bytes += size

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            key, (expires, _) = next(iter(self._entries.items()))
            if expires > now:
                return
            self._remove(key)
            self.stats.expirations += 1

    def _remove(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._order.remove(key)
        self.stats.entries -= 1
        self.stats.bytes -= len(value)
