"""Transaction scripts on PostgreSQL: asyncpg straight, with its own small pool.

asyncpg prepares and caches each statement per connection, so a script's statements cost a
round trip each and little CPU. The pool is opened at the first script and holds at most
``max_size`` connections (besides the engine's own pool).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from agenthost.store.scripts import Script, T, encoded
from agenthost.store.unavailable import TRANSIENT_SQLSTATES, closed, transient, unreachable

ACQUIRE_TIMEOUT_S = 30.0
# Connection refused or lost, no free connection in time.
UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)


# Options of SQLAlchemy's asyncpg dialect that asyncpg itself does not take (it would send
# them to the server as settings).
DIALECT_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn")


class PostgresScripts:
    def __init__(self, connect_args: dict[str, Any], *, max_size: int) -> None:
        """``connect_args``: asyncpg's keyword arguments, as the engine's dialect parsed them
        from the URL (host, port, user, password, database, ssl, ...)."""
        self._connect_args = {k: v for k, v in connect_args.items() if k not in DIALECT_ONLY}
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        """Open the pool now, so that a database that cannot be reached fails start-up."""
        await self._open()

    async def run(self, script: Script[T]) -> T:
        try:
            pool = self._pool or await self._open()
            async with (
                pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as connection,
                connection.transaction(),
            ):
                return await _drive(connection, script)
        except UNAVAILABLE as exc:
            raise unreachable() from exc
        except asyncpg.PostgresError as exc:
            if exc.sqlstate not in TRANSIENT_SQLSTATES:
                raise
            raise transient() from exc

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._closed:
                raise closed()
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **self._connect_args, min_size=1, max_size=self._max_size, reset=_reset
                )
            return self._pool

    async def aclose(self) -> None:
        async with self._opening:  # not while the pool is being opened
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _reset(connection: Any) -> None:
    """Make a connection going back to the pool ready for the next script. Scripts change no
    session state (no SET, LISTEN, prepared names or advisory locks of their own), so asyncpg's
    default reset query would be one more round trip per transaction for nothing; only a
    transaction left open (a script stopped midway) is rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def _drive(connection: Any, script: Script[T]) -> T:
    result: Any = None
    try:
        while True:
            try:
                step = script.send(result)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            sql, args = step.statement.for_postgresql(encoded(step.params, "postgresql"))
            if not sql:
                result = 0
                continue
            if step.fetch:
                result = [tuple(row) for row in await connection.fetch(sql, *args)]
                continue
            status: str = await connection.execute(sql, *args)
            result = int(status.rsplit(" ", 1)[-1])
    finally:
        script.close()
