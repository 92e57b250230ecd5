"""The real PostgreSQL and Redis on this machine, for integration tests.

On a developer's machine without them, the tests that need them are skipped (and say so). In
CI (``CI=true``) they must run: a service that is down is started with the machine's own
command, and if it still cannot be reached the test fails loudly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "AGENTHOST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START_COMMANDS = {
    5432: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    6379: (
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
    ),
}
START_WAIT_S = 20.0


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, port: int) -> None:
    """Skip (on a user's machine) or start-or-fail (in CI) when ``port`` does not answer."""
    if _listening(port):
        return
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.skip(f"{name} is not running on 127.0.0.1:{port}; integration test skipped")
    subprocess.run(START_COMMANDS[port], shell=True, check=False, capture_output=True)
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if _listening(port):
            return
        time.sleep(0.2)
    pytest.fail(
        f"CI needs {name} on 127.0.0.1:{port}, and `{START_COMMANDS[port]}` did not start it"
    )


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database(name: str) -> str:
    """Create an empty database ``name``; returns its URL."""
    require_service("PostgreSQL", 5432)
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(f"CREATE DATABASE {name}"))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def flushed_redis() -> str:
    """The test Redis database (index 15), emptied."""
    require_service("Redis", 6379)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()
    return REDIS_URL


__all__ = ["create_postgres_database", "drop_postgres_database", "flushed_redis"]
