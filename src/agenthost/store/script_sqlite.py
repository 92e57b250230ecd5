"""Transaction scripts on SQLite: one connection on one thread, one hop per transaction.

The connection has the same pragmas as the engine's (WAL, busy timeout, foreign keys). Each
transaction starts with ``BEGIN IMMEDIATE``, so it holds SQLite's write lock from its first
statement and never fails to upgrade a read snapshot; the engine's connection does the same
(see ``store/database.py``). Lock waits happen on this thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agenthost.store.scripts import Script, T, encoded
from agenthost.store.unavailable import closed, unreachable


class SqliteScripts:
    def __init__(self, path: str, *, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agenthost-sqlite")
        self._local = threading.local()
        self._closed = False

    async def start(self) -> None:
        """Nothing to open ahead: the connection is made by the first script."""

    async def run(self, script: Script[T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, self._run, script)
        except sqlite3.OperationalError as exc:  # locked past the busy timeout, I/O error
            raise unreachable() from exc
        except RuntimeError as exc:  # the thread was shut down: the process is stopping
            if not self._closed:
                raise
            raise closed() from exc

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def _run(self, script: Script[T]) -> T:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result: Any = None
            while True:
                try:
                    step = script.send(result)
                except StopIteration as done:
                    connection.execute("COMMIT")
                    return done.value  # type: ignore[no-any-return]
                sql = step.statement.for_sqlite()
                params = encoded(step.params, "sqlite")
                if not sql:
                    result = 0
                elif step.fetch:
                    result = connection.execute(sql, params).fetchall()
                else:
                    result = connection.execute(sql, params).rowcount
        except BaseException:
            if connection.in_transaction:  # SQLite may have rolled back already
                connection.execute("ROLLBACK")
            raise
        finally:
            script.close()

    async def aclose(self) -> None:
        self._closed = True

        def close() -> None:
            connection = getattr(self._local, "connection", None)
            if connection is not None:
                connection.close()
                self._local.connection = None

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)
