"""Rate limits per API key, per tenant and per client IP, with the ``limits`` library.

Failed authentications have a budget per client IP of their own (``auth_failure_limit``):
:meth:`RateLimits.check_auth_failures` refuses before a key is looked up once it is spent,
:meth:`RateLimits.count_auth_failure` spends it (see :mod:`agenthost.tenancy.auth_failures`).

Counters live in this process's memory in the embedded shape, and in Redis when
``redis_url`` is set so that every replica counts against the same limits. In memory they are
counted synchronously (:mod:`agenthost.tenancy.local_limits`): counting in memory never waits,
and ``limits``' asyncio memory storage schedules a task and thread hops on every request.
When Redis cannot be reached, ``redis_failure_mode`` decides: ``open`` lets requests through
(logged, shown in ``/ready``), ``closed`` refuses them with 503. After a failure Redis is not
tried again for a moment, so an outage does not add a connect timeout to every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, WindowStats, parse_many
from limits import strategies as local
from limits.aio.storage import RedisStorage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from agenthost.errors import DependencyUnavailable, RateLimited
from agenthost.settings import Settings
from agenthost.telemetry.metrics import Metrics
from agenthost.tenancy.local_limits import LocalStorage
from agenthost.tenancy.principal import Principal

logger = logging.getLogger(__name__)

STRATEGIES: dict[str, type[RateLimiter]] = {
    "moving-window": MovingWindowRateLimiter,
    "fixed-window": FixedWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
LOCAL_STRATEGIES: dict[str, type[local.RateLimiter]] = {
    "moving-window": local.MovingWindowRateLimiter,
    "fixed-window": local.FixedWindowRateLimiter,
    "sliding-window-counter": local.SlidingWindowCounterRateLimiter,
}
AUTH_FAILURES = "auth_failures"
"""The kind of the failed-authentication budget (its counters' namespace, its metric label)."""
REDIS_RETRY_S = 2.0
"""After Redis failed, how long to treat it as down before trying again."""


@dataclass(frozen=True, slots=True)
class Window:
    """The most constrained limit a request counted against, for ``RateLimit-*`` headers."""

    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }


def _window(item: RateLimitItem, stats: WindowStats) -> Window:
    return Window(
        limit=item.amount,
        remaining=stats.remaining,
        reset_s=max(1, round(stats.reset_time - time.time())),
    )


Check = tuple[RateLimitItem, str, str]
"""A limit, the kind of thing limited (key, tenant, ip) and its identity."""


class RateLimits:
    def __init__(
        self, settings: Settings, redis_pool: ConnectionPool | None, metrics: Metrics | None = None
    ) -> None:
        self._refusals = metrics.rate_limit_refusals if metrics is not None else None
        self._shared: RateLimiter | None = None
        self._local: local.RateLimiter | None = None
        if redis_pool is not None:
            self._storage: RedisStorage | LocalStorage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="agenthost:ratelimit",
                connection_pool=redis_pool,  # type: ignore[arg-type]
            )
            self._shared = STRATEGIES[settings.rate_limit_strategy](self._storage)
        else:
            self._storage = LocalStorage()
            self._local = LOCAL_STRATEGIES[settings.rate_limit_strategy](self._storage)
        self.backend = "redis" if redis_pool is not None else "memory"
        self._fail_open = settings.redis_failure_mode == "open"
        self._defaults = {
            "key": settings.rate_limit_per_key,
            "tenant": settings.rate_limit_per_tenant,
            "ip": settings.rate_limit_per_ip,
            AUTH_FAILURES: settings.auth_failure_limit,
        }
        self._parsed: dict[str, list[RateLimitItem]] = {}
        self._down_until = 0.0
        self.healthy = True

    async def for_principal(self, principal: Principal) -> Window | None:
        """Count a request of ``principal``; RateLimited if its key or tenant is over."""
        checks = [*self._checks("tenant", principal.tenant.id, principal.tenant.rate_limit)]
        if principal.key_id is not None:
            checks = [*self._checks("key", principal.key_id, principal.rate_limit), *checks]
        return await self._hit(checks)

    async def for_ip(self, ip: str) -> Window | None:
        """Count a request from ``ip`` to an open route (one that needs no key)."""
        return await self._hit(self._checks("ip", ip, None))

    async def check_auth_failures(self, ip: str, cost: int = 1) -> None:
        """RateLimited if ``ip`` has fewer than ``cost`` failed authentications left (counts
        nothing)."""
        if time.monotonic() < self._down_until:
            self._unavailable()
            return
        try:
            for item, kind, identity in self._checks(AUTH_FAILURES, ip, None):
                if not await self._test(item, kind, identity, cost):
                    raise self._refusal(item, kind, await self._stats(item, kind, identity))
        except StorageError as exc:
            self._storage_failed(exc)
            self._unavailable()
        else:
            self._set_health(True, "")

    async def count_auth_failure(self, ip: str) -> None:
        """Spend one failed authentication of ``ip``'s budget."""
        if time.monotonic() < self._down_until:
            return
        try:
            for item, kind, identity in self._checks(AUTH_FAILURES, ip, None):
                await self._spend(item, kind, identity)
        except StorageError as exc:
            self._storage_failed(exc)
        else:
            self._set_health(True, "")

    async def check_storage(self) -> bool:
        """Ping the storage (for readiness and at start-up); logs when its health changes."""
        storage = self._storage
        ok = await storage.check() if isinstance(storage, RedisStorage) else storage.check()
        self._set_health(ok, "ping failed")
        return ok

    def _set_health(self, healthy: bool, reason: str) -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            logger.warning("rate limit storage reachable again")
        else:
            logger.error(
                "rate limit storage unreachable (%s); failing %s",
                reason,
                "open: no rate limits" if self._fail_open else "closed: refusing requests",
            )

    def _checks(self, kind: str, identity: str, own: str | None) -> list[Check]:
        text = own or self._defaults[kind]
        items = self._parsed.get(text)
        if items is None:
            items = self._parsed[text] = parse_many(text)
        return [(item, kind, identity) for item in items]

    async def _hit(self, checks: Sequence[Check]) -> Window | None:
        if time.monotonic() < self._down_until:
            return self._unavailable()
        try:
            windows = []
            for item, kind, identity in checks:
                allowed = await self._spend(item, kind, identity)
                stats = await self._stats(item, kind, identity)
                if not allowed:
                    raise self._refusal(item, kind, stats)
                windows.append(_window(item, stats))
        except StorageError as exc:
            self._storage_failed(exc)
            return self._unavailable()
        self._set_health(True, "")
        return min(windows, key=lambda w: (w.remaining, -w.reset_s), default=None)

    def _refusal(self, item: RateLimitItem, kind: str, stats: WindowStats) -> RateLimited:
        if self._refusals is not None:
            self._refusals.labels(kind).inc()
        window = _window(item, stats)
        return RateLimited(
            f"rate limit of {item.amount} per {item.GRANULARITY.name} ({kind}) exceeded",
            retry_after=window.reset_s,
            details={"limit_scope": kind, "limit": str(item)},
            headers=window.headers(),
        )

    def _storage_failed(self, exc: StorageError) -> None:
        self._down_until = time.monotonic() + REDIS_RETRY_S
        self._set_health(False, type(exc.storage_error).__name__)

    async def _spend(self, item: RateLimitItem, kind: str, identity: str) -> bool:
        """Count one request against ``item``; False (and not counted) if it is over."""
        if self._local is not None:
            return self._local.hit(item, kind, identity)
        assert self._shared is not None
        return await self._shared.hit(item, kind, identity)

    async def _test(self, item: RateLimitItem, kind: str, identity: str, cost: int) -> bool:
        """Whether ``cost`` more requests would be allowed by ``item``."""
        if self._local is not None:
            return self._local.test(item, kind, identity, cost=cost)
        assert self._shared is not None
        return await self._shared.test(item, kind, identity, cost=cost)

    async def _stats(self, item: RateLimitItem, kind: str, identity: str) -> WindowStats:
        if self._local is not None:
            return self._local.get_window_stats(item, kind, identity)
        assert self._shared is not None
        return await self._shared.get_window_stats(item, kind, identity)

    def _unavailable(self) -> Window | None:
        if self._fail_open:
            return None
        raise DependencyUnavailable(
            "rate limiting is unavailable (its Redis cannot be reached)", retry_after=REDIS_RETRY_S
        )
