"""Authenticated principals kept for a moment, so a busy key is not looked up on every request
(and, in processes executing background runs, tenants, so a busy tenant's runs are not).

Keyed by the SHA-256 digest of the presented key (never the key itself), or by tenant id; the
least recently used entry goes first when the cache is full. Concurrent requests with the same
key while it is not cached share one lookup. Only successes are kept; a lookup that fails (an
unknown or revoked key, a disabled tenant, the database down) is not.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from agenthost.tenancy.principal import Principal

MAX_ENTRIES = 10_000
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Authenticated:
    principal: Principal
    key_expires_at: datetime | None
    """Checked on every request, cached or not."""


class PrincipalCache(Generic[V]):
    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[V]] = {}

    def holds(self, digest: str) -> bool:
        """Whether ``digest`` is cached and fresh (:meth:`get` would not load it)."""
        entry = self._entries.get(digest) if self._ttl_s > 0 else None
        return entry is not None and entry[0] > self._clock()

    async def get(self, digest: str, load: Callable[[], Awaitable[V]]) -> V:
        """The principal of ``digest``: cached, being loaded by another request, or ``load()``."""
        if self._ttl_s <= 0:
            return await load()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > self._clock():
            self._entries.move_to_end(digest)  # least recently used goes first
            return entry[1]
        loading = self._loading.get(digest)
        if loading is None:
            loading = asyncio.ensure_future(self._load(digest, load, self._loading))
            self._loading[digest] = loading
        # Shielded: one waiter going away does not cancel the lookup the others wait for.
        return await asyncio.shield(loading)

    async def _load(
        self,
        digest: str,
        load: Callable[[], Awaitable[V]],
        loading: dict[str, asyncio.Future[V]],
    ) -> V:
        """Look ``digest`` up; keep it unless the cache was cleared since (``loading`` is no
        longer the cache's)."""
        try:
            found = await load()
        finally:
            if loading is self._loading:
                del loading[digest]
        if loading is self._loading:  # not cleared while it was being looked up
            self._entries[digest] = (self._clock() + self._ttl_s, found)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every principal (a key was revoked or a tenant changed here). Lookups begun
        before are not shared with later requests, nor kept."""
        self._entries.clear()
        self._loading = {}
