"""The process's database engine and its transactions.

Repositories take the :class:`~sqlalchemy.ext.asyncio.AsyncSession` of a transaction and never
commit on their own: the caller opens one with :meth:`Database.transaction`, which commits when
its block ends and rolls back when the block raises. The hot path (every run's reservation)
runs transaction scripts on ``Database.scripts`` instead, straight on the driver
(``store/scripts.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from agenthost.settings import ConfigError
from agenthost.store.script_postgres import PostgresScripts
from agenthost.store.script_sqlite import SqliteScripts
from agenthost.store.scripts import ScriptRunner
from agenthost.store.unavailable import TRANSIENT_SQLSTATES, transient, unreachable

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connection refused or lost, pool exhausted, SQLite still locked after its busy timeout.
UNAVAILABLE = (OSError, OperationalError, InterfaceError, SQLAlchemyTimeoutError)
DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
SCHEME_ALIASES = {"postgres": "postgresql"}
READ_ONLY = "agenthost_read_only"
"""Execution option of the connections of read-only transactions."""


def database_url(raw: str) -> URL:
    """Parse ``raw`` and choose the async driver; ConfigError for anything else."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError("AGENTHOST_DATABASE_URL is not a database URL") from None
    backend = SCHEME_ALIASES.get(url.get_backend_name(), url.get_backend_name())
    driver = DRIVERS.get(backend)
    if driver is None:
        raise ConfigError(
            f"AGENTHOST_DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql"
        )
    if "+" in url.drivername and url.drivername != driver:
        raise ConfigError(f"AGENTHOST_DATABASE_URL: use the {driver!r} driver (or none)")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError("AGENTHOST_DATABASE_URL: SQLite needs a file path, e.g. sqlite:///x.db")
    return url.set(drivername=driver)


def redacted(url: URL) -> str:
    return url.render_as_string(hide_password=True)


class Database:
    def __init__(
        self,
        raw_url: str,
        *,
        password: str | None = None,
        pool_size: int = 10,
        log_parameters: bool = False,
    ) -> None:
        self.url = database_url(raw_url)
        if password is not None:
            self.url = self.url.set(password=password)
        # Parameters hold prompts, outputs and session items: keep them out of error messages.
        options: dict[str, Any] = {"hide_parameters": not log_parameters}
        if self.is_sqlite:
            assert self.url.database is not None
            path = self.url.database
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # SQLite has one writer at a time. With one engine connection per process, its
            # transactions queue in the event loop instead of in SQLite's busy handler, which
            # sleeps and retries; only the hot path's connection and other processes meet that
            # handler. A file has no connection to lose: no ping before each checkout.
            options.update(pool_size=1, max_overflow=0)
        else:
            options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self.scripts: ScriptRunner
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            self.scripts = SqliteScripts(path, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
        else:
            _, connect_args = self.engine.dialect.create_connect_args(self.url)
            self.scripts = PostgresScripts(dict(connect_args), max_size=pool_size)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = async_sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return redacted(self.url)

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises.

        ``read_only``: the block only reads. On SQLite it then does not take the write lock
        (every other transaction does, from its start: see ``_sqlite_begin``), so it neither
        waits for writers nor makes them wait. A database that cannot be reached (or stays
        locked) is DependencyUnavailable (503).
        """
        sessions = self._read_sessions if read_only else self._sessions
        try:
            async with sessions() as session, session.begin():
                yield session
        except UNAVAILABLE as exc:
            raise unreachable() from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in TRANSIENT_SQLSTATES:
                raise
            raise transient() from exc

    async def ping(self) -> None:
        async with self._read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def aclose(self) -> None:
        await self.scripts.aclose()
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer writes; writers wait up to the busy timeout.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Transactions are begun explicitly (below), not by the driver at the first write.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    """Take SQLite's write lock when a transaction that may write begins. The process has a
    second connection (the hot path's, ``store/script_sqlite.py``), and other processes may
    write the file too: a transaction that read first and wrote later would fail outright if
    another connection committed in between (a stale snapshot cannot be upgraded); this way
    it waits its turn. Read-only transactions read a snapshot and take no lock."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
