"""Transactions, constraints and UTC timestamps behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from agenthost.store.database import Database
from agenthost.store.repositories import tenants
from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import ApiKeyRow, TenantRow


def _tenant(tenant_id: str, moment: datetime, name: str = "") -> TenantRow:
    return TenantRow(
        id=tenant_id, name=name, agent_overrides={}, created_at=moment, updated_at=moment
    )


async def _tenant_ids(db: Database) -> list[str]:
    async with db.transaction() as tx:
        return [row.id for row in await tenants.list_all(tx)]


async def test_a_transaction_commits_at_the_end_and_rolls_back_on_error(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as tx:
        await tenants.add(tx, _tenant("kept", now))
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await tenants.add(tx, _tenant("lost", now))
            raise RuntimeError("boom")
    assert await _tenant_ids(db) == ["kept"]


async def test_foreign_keys_are_enforced(db: Database) -> None:
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            tx.add(
                ApiKeyRow(
                    id="key_1",
                    tenant_id="nobody",
                    prefix="0123456789ab",
                    key_hash="0" * 64,
                    name="k",
                    scopes=[],
                    created_at=now,
                )
            )
    async with db.transaction() as tx:
        assert (await tx.execute(text("SELECT count(*) FROM api_keys"))).scalar() == 0


async def test_insert_ignore_keeps_the_first_row(db: Database) -> None:
    now = datetime.now(UTC)
    for name in ("first", "second"):
        async with db.transaction() as tx:
            await insert_ignore(
                tx,
                TenantRow,
                {
                    "id": "acme",
                    "name": name,
                    "agent_overrides": {},
                    "created_at": now,
                    "updated_at": now,
                },
            )
    async with db.transaction() as tx:
        row = await tenants.get(tx, "acme")
    assert row is not None
    assert row.name == "first"


async def test_timestamps_come_back_as_aware_utc(db: Database) -> None:
    local = datetime(2031, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as tx:
        await tenants.add(tx, _tenant("acme", local))
    async with db.transaction() as tx:
        created = await tx.scalar(select(TenantRow.created_at).where(TenantRow.id == "acme"))
        # Compared in SQL against an aware bound of another zone: stored as UTC.
        matching = await tx.scalar(
            select(TenantRow.id).where(TenantRow.created_at == local.astimezone(UTC))
        )
    assert created == local
    assert created is not None
    assert created.tzinfo == UTC
    assert (created.hour, created.microsecond) == (12, 123456)
    assert matching == "acme"


async def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as tx:
            await tenants.add(tx, _tenant("acme", datetime(2031, 6, 1, 12)))
    assert await _tenant_ids(db) == []


async def test_ping(db: Database) -> None:
    await db.ping()
