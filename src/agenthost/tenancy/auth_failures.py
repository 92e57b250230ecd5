"""Bad keys cost nothing: the failed-authentication budget of each client IP.

Every failed authentication (no key, a malformed, unknown, expired or revoked one) spends one
of the IP's ``auth_failure_limit``. The budget is checked *before* a key is looked up in the
database, so a flood of well-formed fake keys from one IP reaches the database at most that
many times per window; the rest are refused with 429 ``RATE_LIMITED`` at the cost of a counter
read. Lookups still in flight count as failures-to-be, so a burst of concurrent fake keys
cannot slip past the check together. While an IP's budget is spent, any key it presents that
is not already cached (see ``auth_cache_ttl_s``) is refused, valid ones included: the budget is
checked before anyone can know whether a key is valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agenthost.errors import Unauthenticated
from agenthost.tenancy.ratelimit import RateLimits


class FailedAuthentications:
    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._pending: dict[str, int] = {}
        """Client IP → its key lookups in flight in this process."""

    @asynccontextmanager
    async def guard(self, ip: str) -> AsyncIterator[None]:
        """Around an authentication from ``ip`` that looks a key up: refused first (429) if
        the budget is spent; an Unauthenticated raised inside spends it."""
        # Counted before the check awaits, so concurrent checks see each other.
        self._pending[ip] = self._pending.get(ip, 0) + 1
        try:
            await self._limits.check_auth_failures(ip, cost=self._pending[ip])
            yield
        except Unauthenticated:
            await self.count(ip)  # before this lookup stops being pending
            raise
        finally:
            self._release(ip)

    async def count(self, ip: str) -> None:
        """Spend one of ``ip``'s failed authentications (one that looked nothing up)."""
        await self._limits.count_auth_failure(ip)

    def _release(self, ip: str) -> None:
        left = self._pending[ip] - 1
        if left:
            self._pending[ip] = left
        else:
            del self._pending[ip]
