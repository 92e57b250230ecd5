"""The Redis cache: shared entries with a time to live; an unreachable Redis is a miss."""

from __future__ import annotations

import pytest
from redis.asyncio import ConnectionPool, Redis

from agenthost.cache.redis_store import PREFIX, RedisCache


@pytest.mark.integration
async def test_values_round_trip_with_the_ttl(redis_url: str) -> None:
    pool = ConnectionPool.from_url(redis_url)
    try:
        cache = RedisCache(pool, ttl_s=30)
        assert await cache.get("k") is None
        await cache.set("k", b"value")
        assert await cache.get("k") == b"value"
        ttl_ms = await Redis(connection_pool=pool).pttl(PREFIX + "k")
        assert 0 < ttl_ms <= 30_000
    finally:
        await pool.aclose()


async def test_an_unreachable_redis_is_a_miss(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 1 of loopback: connections are refused at once.
    pool = ConnectionPool.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        cache = RedisCache(pool, ttl_s=30)
        await cache.set("k", b"value")
        assert await cache.get("k") is None
    finally:
        await pool.aclose()
    assert "treated as a miss" in caplog.text and "not cached" in caplog.text
