"""Bad keys cost nothing: the failed-authentication budget of each client IP.

Every failed authentication (no key, a malformed, unknown, expired or revoked one) spends one
of the IP's ``auth_failure_limit``. The budget is checked *before* a key is looked up in the
database, so a flood of well-formed fake keys from one IP reaches the database at most that
many times per window; the rest are refused with 429 ``RATE_LIMITED`` at the cost of a counter
read. Lookups still in flight count as failures-to-be, one per distinct key (concurrent
requests with one key share one lookup), so a burst of concurrent fake keys cannot slip past
the check together, and a burst of one client's valid key is not taken for one. While an IP's
budget is spent, any key it presents that is not already cached (see ``auth_cache_ttl_s``) is
refused, valid ones included: the budget is checked before anyone can know whether a key is
valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agenthost.errors import Unauthenticated
from agenthost.tenancy.ratelimit import RateLimits


class FailedAuthentications:
    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._pending: dict[str, dict[str, int]] = {}
        """Client IP → the keys it is having looked up in this process → requests waiting on
        each (the principal cache looks each key up once for all of them)."""

    @asynccontextmanager
    async def guard(self, ip: str, key: str) -> AsyncIterator[None]:
        """Around an authentication from ``ip`` that looks ``key`` up: refused first (429) if
        the budget is spent; an Unauthenticated raised inside spends it."""
        # Counted before the check awaits, so concurrent checks see each other.
        keys = self._pending.setdefault(ip, {})
        keys[key] = keys.get(key, 0) + 1
        try:
            await self._limits.check_auth_failures(ip, cost=len(keys))
            yield
        except Unauthenticated:
            await self.count(ip)  # before this lookup stops being pending
            raise
        finally:
            self._release(ip, key)

    async def count(self, ip: str) -> None:
        """Spend one of ``ip``'s failed authentications (one that looked nothing up)."""
        await self._limits.count_auth_failure(ip)

    def _release(self, ip: str, key: str) -> None:
        keys = self._pending[ip]
        keys[key] -= 1
        if not keys[key]:
            del keys[key]
            if not keys:
                del self._pending[ip]
