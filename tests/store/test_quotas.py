"""Quota reservations are atomic: concurrent transactions never take more than the limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from agenthost.store.database import Database
from agenthost.store.repositories import quotas, runs
from agenthost.store.tables import RunRow
from agenthost.tenancy.auth import ensure_tenant
from tests.waiting import eventually

PERIOD = "2031-05"


async def _count(db: Database, tenant: str, limit: int | None, period: str = PERIOD) -> bool:
    async with db.transaction() as tx:
        return await quotas.count_run(tx, tenant, period, limit)


async def _counted(db: Database, tenant: str, period: str = PERIOD) -> int:
    async with db.transaction() as tx:
        return await quotas.runs_counted(tx, tenant, period)


async def _take(
    db: Database, tenant: str, run_id: str, limit: int, now: datetime, lease_s: float = 60
) -> bool:
    async with db.transaction() as tx:
        return await quotas.take_slot(
            tx, tenant, run_id, limit, now, now + timedelta(seconds=lease_s)
        )


async def _held(db: Database, tenant: str, now: datetime) -> int:
    async with db.transaction() as tx:
        return await quotas.slots_held(tx, tenant, now)


async def test_concurrent_counts_stop_exactly_at_the_limit(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    results = await asyncio.gather(*(_count(db, "acme", 10) for _ in range(40)))
    assert results.count(True) == 10
    assert await _counted(db, "acme") == 10
    assert not await _count(db, "acme", 10)
    assert await _counted(db, "acme") == 10


async def test_counts_are_per_tenant_and_period(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    await ensure_tenant(db, "other", "Other")
    assert await _count(db, "acme", 1)
    assert not await _count(db, "acme", 1)
    assert await _count(db, "other", 1)
    assert await _count(db, "acme", 1, period="2031-06")
    assert await _counted(db, "acme") == 1
    assert await _counted(db, "acme", "2031-04") == 0


async def test_without_a_limit_every_run_is_counted(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    results = await asyncio.gather(*(_count(db, "acme", None) for _ in range(15)))
    assert all(results)
    assert await _counted(db, "acme") == 15


async def test_a_zero_limit_refuses_every_run(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    assert not await _count(db, "acme", 0)
    assert await _counted(db, "acme") == 0


async def test_uncount_gives_a_run_back_and_never_goes_negative(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    assert await _count(db, "acme", 1)
    async with db.transaction() as tx:
        await quotas.uncount_run(tx, "acme", PERIOD)
        await quotas.uncount_run(tx, "acme", PERIOD)
    assert await _counted(db, "acme") == 0
    assert await _count(db, "acme", 1)


async def test_concurrent_slots_stop_exactly_at_the_limit(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    now = datetime.now(UTC)
    results = await asyncio.gather(*(_take(db, "acme", f"run_{i}", 3, now) for i in range(40)))
    assert results.count(True) == 3
    assert await _held(db, "acme", now) == 3


async def test_a_freed_slot_can_be_taken_again(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    await ensure_tenant(db, "other", "Other")
    now = datetime.now(UTC)
    assert await _take(db, "acme", "run_1", 1, now)
    assert not await _take(db, "acme", "run_2", 1, now)
    assert await _take(db, "other", "run_3", 1, now)
    async with db.transaction() as tx:
        await quotas.free_slot(tx, "other", "run_1")  # not its slot: nothing happens
    assert await _held(db, "acme", now) == 1
    async with db.transaction() as tx:
        await quotas.free_slot(tx, "acme", "run_1")
    assert await _held(db, "acme", now) == 0
    assert await _take(db, "acme", "run_2", 1, now)


async def test_expired_slots_are_reclaimed(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    start = datetime.now(UTC)
    assert await _take(db, "acme", "crashed_1", 2, start, lease_s=10)
    assert await _take(db, "acme", "crashed_2", 2, start, lease_s=10)
    assert not await _take(db, "acme", "run_1", 2, start + timedelta(seconds=9))
    later = start + timedelta(seconds=10)
    assert await _held(db, "acme", later) == 0
    results = await asyncio.gather(*(_take(db, "acme", f"run_{i}", 2, later) for i in range(10)))
    assert results.count(True) == 2
    assert await _held(db, "acme", later) == 2


async def _someone_waits_for_a_lock(db: Database) -> bool:
    async with db.transaction() as tx:
        waiting = await tx.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


@pytest.mark.integration
async def test_slot_and_slotless_admissions_do_not_deadlock(migrated_postgres: str) -> None:
    """An admission holding the month's counter inserts its run record (a foreign-key check on
    the tenant) while another admission holds the tenant's slot lock and waits for the counter.
    The slot lock must not block foreign-key checks, or PostgreSQL aborts one as a deadlock."""
    db = Database(migrated_postgres)
    try:
        await ensure_tenant(db, "acme", "Acme")
        assert await _count(db, "acme", None)  # the month's counter row exists
        now = datetime.now(UTC)

        async def admit_with_a_slot() -> None:
            async with db.transaction() as tx:
                assert await quotas.take_slot(
                    tx, "acme", "run_a", 1, now, now + timedelta(seconds=60)
                )
                assert await quotas.count_run(tx, "acme", PERIOD, None)

        async with db.transaction() as tx:
            assert await quotas.count_run(tx, "acme", PERIOD, None)
            other = asyncio.create_task(admit_with_a_slot())
            await eventually(lambda: _someone_waits_for_a_lock(db))
            record = RunRow(
                id="run_b",
                tenant_id="acme",
                agent="a",
                mode="sync",
                status="running",
                day="2031-05-01",
                created_at=now,
                expires_at=now,
            )
            await runs.insert(tx, record)
        await other
        assert await _counted(db, "acme") == 3
    finally:
        await db.aclose()
