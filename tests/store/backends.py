"""Database fixtures for tests that must hold on SQLite and on PostgreSQL alike.

``db`` is parametrized over both backends (PostgreSQL runs are integration tests);
``sqlite_db`` is the test's own migrated SQLite file only; ``empty_database`` is the URL of a
database with no schema yet on either backend (for migration tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthost.settings import Settings
from agenthost.store.database import Database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated database: the test's SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return Settings().database_url.get_secret_value()
    url: str = request.getfixturevalue("migrated_postgres")
    return url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not migrated): a new SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.aclose()


@pytest.fixture
async def sqlite_db() -> AsyncIterator[Database]:
    database = Database(Settings().database_url.get_secret_value())
    try:
        yield database
    finally:
        await database.aclose()


__all__ = ["database_url", "db", "empty_database", "sqlite_db"]
