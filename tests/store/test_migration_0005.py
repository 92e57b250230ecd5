"""Migration 0005 (run steps and trace id) on SQLite and PostgreSQL: up and down keep every run
and its events (a SQLite table copy would cascade to them)."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from agenthost.store.database import Database
from agenthost.store.migrate import alembic_config, upgrade

NOW = datetime(2026, 1, 1)  # the columns hold naive UTC
PREVIOUS = "0004"


async def _seed(db: Database) -> None:
    statements = [
        "INSERT INTO tenants (id, name, disabled, agent_overrides, created_at, updated_at) "
        "VALUES ('acme', 'acme', false, '{}', :now, :now)",
        "INSERT INTO runs (id, tenant_id, agent, mode, status, metadata, day, created_at, "
        "expires_at, requests, input_tokens, output_tokens, total_tokens, cached) VALUES "
        "('run_1', 'acme', 'a', 'background', 'succeeded', '{}', '2026-01-01', :now, :now, "
        "0, 0, 0, 0, false)",
        "INSERT INTO run_events (run_id, key, type, data, created_at) "
        "VALUES ('run_1', 'end', 'final', '{}', :now)",
    ]
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), {"now": NOW})


async def _counts(db: Database) -> tuple[int, int]:
    async with db.engine.connect() as connection:
        runs = await connection.scalar(text("SELECT count(*) FROM runs"))
        events = await connection.scalar(text("SELECT count(*) FROM run_events"))
    return int(runs or 0), int(events or 0)


def _run_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("runs")}


async def test_up_and_down_keep_runs_and_their_events(empty_database: str) -> None:
    db = Database(empty_database)
    try:
        await upgrade(db, PREVIOUS)
        await _seed(db)
        assert await upgrade(db, "0005") == (PREVIOUS, "0005")
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE runs SET steps = '[]', trace_id = :t"), {"t": "ab" * 16}
            )
        up = await _counts(db)

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, PREVIOUS)

        async with db.engine.begin() as connection:
            await connection.run_sync(downgrade)
        down = await _counts(db)
        async with db.engine.connect() as connection:
            columns = await connection.run_sync(_run_columns)
    finally:
        await db.aclose()
    assert up == down == (1, 1)
    assert "steps" not in columns and "trace_id" not in columns
