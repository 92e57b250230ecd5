"""The shared result cache: entries in Redis, so every replica answers from them.

Each entry is written with the cache's time to live; bounds on memory and the eviction policy
are Redis's own (``maxmemory`` and ``maxmemory-policy``, e.g. ``allkeys-lru`` or
``allkeys-lfu``). A Redis that cannot be reached is a miss (logged), never a failed run.
"""

from __future__ import annotations

import logging

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PREFIX = "agenthost:cache:"


class RedisCache:
    def __init__(self, pool: ConnectionPool, *, ttl_s: float) -> None:
        self._redis = Redis(connection_pool=pool)
        self._ttl_ms = max(1, round(ttl_s * 1000))

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(PREFIX + key)
        except (RedisError, OSError) as exc:
            logger.warning("result cache: Redis lookup failed, treated as a miss: %s", exc)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        try:
            await self._redis.set(PREFIX + key, value, px=self._ttl_ms)
        except (RedisError, OSError) as exc:
            logger.warning("result cache: Redis write failed, result not cached: %s", exc)
