"""Migration 0004 on SQLite and PostgreSQL: `admin` keys lose the scope (no tenant is an operator
before it), the count is logged, other scopes are kept; downgrading restores `admin`."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from agenthost.store.database import Database
from agenthost.store.migrate import alembic_config, upgrade

NOW = datetime(2026, 1, 1)  # the columns hold naive UTC
KEYS = {
    "key_ops": ["admin"],
    "key_mixed": ["admin", "runs:read"],
    "key_plain": ["runs:read", "runs:write"],
}


async def _seed_at_0003(db: Database) -> None:
    await upgrade(db, "0003")
    async with db.engine.begin() as connection:
        for tenant in ("ops", "acme"):
            await connection.execute(
                text(
                    "INSERT INTO tenants (id, name, disabled, agent_overrides, created_at, "
                    "updated_at) VALUES (:id, :id, false, '{}', :now, :now)"
                ),
                {"id": tenant, "now": NOW},
            )
        for index, (key_id, scopes) in enumerate(KEYS.items()):
            await connection.execute(
                text(
                    "INSERT INTO api_keys (id, tenant_id, prefix, key_hash, name, scopes, "
                    "created_at) VALUES (:id, :tenant, :prefix, 'x', 'k', :scopes, :now)"
                ),
                {
                    "id": key_id,
                    "tenant": "ops" if key_id == "key_ops" else "acme",
                    "prefix": f"p{index}",
                    "scopes": json.dumps(scopes),
                    "now": NOW,
                },
            )


async def _scopes(db: Database) -> dict[str, list[str]]:
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id, scopes FROM api_keys"))).all()
    return {key_id: json.loads(s) if isinstance(s, str) else s for key_id, s in rows}


async def test_admin_keys_lose_the_scope_and_the_count_is_logged(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(empty_database)
    try:
        await _seed_at_0003(db)
        with caplog.at_level(logging.WARNING):
            assert await upgrade(db, "0004") == ("0003", "0004")
        after = await _scopes(db)
        async with db.engine.connect() as connection:
            flags = (await connection.execute(text("SELECT id, operator FROM tenants"))).all()
    finally:
        await db.aclose()
    assert after == {"key_ops": [], "key_mixed": ["runs:read"], "key_plain": KEYS["key_plain"]}
    assert {tenant: bool(flag) for tenant, flag in flags} == {"ops": False, "acme": False}
    [message] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("0004")]
    assert "2 API key(s) had the 'admin' scope: 0 now hold 'operator'" in message
    assert "2 lost it" in message and "bootstrap-operator" in message


async def test_downgrade_turns_operator_back_into_admin(empty_database: str) -> None:
    db = Database(empty_database)
    try:
        await _seed_at_0003(db)
        await upgrade(db, "0004")
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE api_keys SET scopes = :s WHERE id = 'key_ops'"),
                {"s": json.dumps(["keys:admin", "operator", "runs:read"])},
            )

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")

        async with db.engine.begin() as connection:
            await connection.run_sync(downgrade)
        after = await _scopes(db)
    finally:
        await db.aclose()
    assert after["key_ops"] == ["admin", "runs:read"]
    assert after["key_mixed"] == ["runs:read"] and after["key_plain"] == KEYS["key_plain"]
