"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from agenthost.errors import DependencyUnavailable
from agenthost.settings import ConfigError
from agenthost.store.database import Database, database_url
from agenthost.store.migrate import current_revision, head_revision, require_current, upgrade
from agenthost.store.tables import Base


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def _assert_matches_models(url: str) -> None:
    db = Database(url)
    try:
        await require_current(db)
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await db.aclose()


async def test_sqlite_migrations_match_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(ConfigError, match="agenthost db upgrade"):
            await require_current(db)
        assert await upgrade(db) == (None, head_revision())
        assert await upgrade(db) == (head_revision(), head_revision())
        assert await current_revision(db) == head_revision()
    finally:
        await db.aclose()
    await _assert_matches_models(f"sqlite:///{tmp_path / 'x.db'}")


@pytest.mark.integration
async def test_postgres_migrations_match_the_models(migrated_postgres: str) -> None:
    await _assert_matches_models(migrated_postgres)


@pytest.mark.integration
async def test_unmigrated_postgres_is_refused_naming_the_command(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        with pytest.raises(ConfigError, match="run `agenthost db upgrade`") as info:
            await require_current(db)
    finally:
        await db.aclose()
    assert "postgres@" in str(info.value) or "127.0.0.1" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:///a.db", "sqlite+aiosqlite"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_database_urls_get_the_async_driver(raw: str, driver: str) -> None:
    assert database_url(raw).drivername == driver


@pytest.mark.parametrize(
    "raw", ["mysql://h/db", "postgresql+psycopg2://h/db", "sqlite://", "not a url"]
)
def test_unsupported_database_urls_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="AGENTHOST_DATABASE_URL"):
        database_url(raw)


def test_passwords_stay_out_of_messages() -> None:
    db = Database("postgresql://user:hunter2@127.0.0.1:1/db")
    assert "hunter2" not in db.display_url


async def test_an_unreachable_database_is_a_503_not_a_crash() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(DependencyUnavailable) as info:
            async with db.transaction() as tx:
                await tx.execute(text("SELECT 1"))
    finally:
        await db.aclose()
    assert info.value.status == 503 and info.value.retriable
