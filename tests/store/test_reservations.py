"""Reservations are atomic: concurrent transactions never take more than the limit, and a
refused reservation keeps nothing. Run on SQLite and PostgreSQL (the scripts' two drivers)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from agenthost.errors import DependencyUnavailable
from agenthost.store.database import Database
from agenthost.store.repositories import quotas, reservations, runs
from agenthost.store.repositories.reservations import Closing, Opening, QuotaRefused
from agenthost.store.tables import RunRow, TenantRow
from agenthost.tenancy.auth import ensure_tenant
from tests.waiting import eventually

PERIOD = "2031-05"
_ids = itertools.count()


def _run(tenant: str, run_id: str, now: datetime, lease_s: float = 60) -> dict[str, Any]:
    return {
        "id": run_id, "tenant_id": tenant, "api_key_id": None, "agent": "a", "mode": "sync",
        "status": "running", "session_id": None, "request_id": "req", "metadata": {"k": "v"},
        "day": now.strftime("%Y-%m-%d"), "created_at": now,
        "expires_at": now + timedelta(seconds=lease_s), "requests": 0, "input_tokens": 0,
        "output_tokens": 0, "total_tokens": 0, "cached": False, "input": "hi",
    }  # fmt: skip


async def _open(
    db: Database,
    tenant: str,
    *,
    runs_limit: int | None = None,
    slot_limit: int | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
    period: str = PERIOD,
    lease_s: float = 60,
) -> bool:
    """Open a run's reservation; whether it was admitted."""
    now = now or datetime.now(UTC)
    opening = Opening(
        run=_run(tenant, run_id or f"run_{next(_ids)}", now, lease_s),
        period=period,
        runs_limit=runs_limit,
        slot_limit=slot_limit,
        now=now,
    )
    try:
        await db.scripts.run(reservations.open_run(opening))
    except QuotaRefused:
        return False
    return True


async def _count(db: Database, tenant: str, limit: int | None, period: str = PERIOD) -> bool:
    return await _open(db, tenant, runs_limit=limit, period=period)


async def _counted(db: Database, tenant: str, period: str = PERIOD) -> int:
    async with db.transaction() as tx:
        return await quotas.runs_counted(tx, tenant, period)


async def _take(
    db: Database, tenant: str, run_id: str, limit: int, now: datetime, lease_s: float = 60
) -> bool:
    return await _open(db, tenant, slot_limit=limit, now=now, run_id=run_id, lease_s=lease_s)


async def _close(
    db: Database, tenant: str, run_id: str, *, only_if_open: bool = False, refund: bool = False
) -> bool:
    closing = Closing(
        tenant_id=tenant,
        run_id=run_id,
        period=PERIOD,
        outcome={
            "status": "failed", "finished_at": datetime.now(UTC), "duration_ms": 1.5,
            "requests": 1, "input_tokens": 2, "output_tokens": 3, "total_tokens": 5,
            "last_agent": "a", "cached": False, "error_code": "X", "error_message": "m",
            "output": {"answer": [1, 2]}, "steps": None, "trace_id": None,
        },
        free_slot=True,
        only_if_open=only_if_open,
        refund=refund,
    )  # fmt: skip
    return await db.scripts.run(reservations.close_run(closing))


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
    assert not await _close(db, "other", "run_1")  # not its run: nothing happens
    assert await _held(db, "acme", now) == 1
    assert await _close(db, "acme", "run_1")
    assert await _held(db, "acme", now) == 0
    assert await _take(db, "acme", "run_2", 1, now)


async def test_a_refused_reservation_keeps_nothing(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    now = datetime.now(UTC)
    assert await _open(db, "acme", runs_limit=1, slot_limit=5, now=now, run_id="run_1")
    # The slot is taken first, then the month refuses: the slot must be given back.
    assert not await _open(db, "acme", runs_limit=1, slot_limit=5, now=now, run_id="run_2")
    assert await _held(db, "acme", now) == 1
    assert await _counted(db, "acme") == 1
    async with db.transaction() as tx:
        assert await runs.get(tx, "acme", "run_2") is None


async def test_the_record_reads_back_through_the_orm(db: Database) -> None:
    """Rows written by the scripts are read by the ORM (types, time zones, JSON) as its own."""
    await ensure_tenant(db, "acme", "Acme")
    now = datetime.now(UTC)
    assert await _open(db, "acme", now=now, run_id="run_1")
    async with db.transaction() as tx:
        row = await runs.get(tx, "acme", "run_1")
    assert row is not None
    assert row.status == "running" and row.run_metadata == {"k": "v"} and row.input == "hi"
    assert row.created_at == now and row.expires_at == now + timedelta(seconds=60)
    assert row.output is None and row.finished_at is None
    assert await _close(db, "acme", "run_1")
    async with db.transaction() as tx:
        row = await runs.get(tx, "acme", "run_1")
    assert row is not None and row.finished_at is not None
    assert row.finished_at.tzinfo is not None
    assert (row.status, row.duration_ms, row.total_tokens) == ("failed", 1.5, 5)
    assert (row.error_code, row.output) == ("X", {"answer": [1, 2]})


async def test_closing_only_an_open_run_and_refunding_its_month(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    assert await _open(db, "acme", run_id="run_1")
    assert await _counted(db, "acme") == 1
    assert await _close(db, "acme", "run_1", only_if_open=True, refund=True)
    assert await _counted(db, "acme") == 0
    # Ended already: nothing is written and the month is not refunded twice.
    assert await _open(db, "acme", run_id="run_2")
    assert not await _close(db, "acme", "run_1", only_if_open=True, refund=True)
    assert await _counted(db, "acme") == 1


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
            assert await _open(db, "acme", slot_limit=1, now=now, run_id="run_a")

        # A slotless admission holding the month's counter, about to insert its run record.
        async with db.transaction() as tx:
            await tx.execute(
                text("UPDATE quota_counters SET runs = runs + 1 WHERE tenant_id = 'acme'")
            )
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


async def test_a_transaction_that_reads_then_writes_is_not_broken_by_the_hot_path(
    sqlite_db: Database,
) -> None:
    """SQLite: the hot path writes on a connection of its own. An engine transaction that reads
    and then writes holds the write lock from its start, so the hot path waits for it instead
    of committing in between (which would leave it a snapshot it cannot write from)."""
    await ensure_tenant(sqlite_db, "acme", "Acme")
    async with sqlite_db.transaction() as tx:
        row = await tx.get(TenantRow, "acme")  # reads first
        assert row is not None
        opening = asyncio.create_task(_open(sqlite_db, "acme", run_id="run_1"))
        done, _ = await asyncio.wait({opening}, timeout=0.3)
        assert not done  # waiting for this transaction
        row.name = "Acme Corp"  # then writes
    assert await opening
    async with sqlite_db.transaction(read_only=True) as tx:
        assert (await tx.get(TenantRow, "acme")).name == "Acme Corp"  # type: ignore[union-attr]


async def test_a_read_only_transaction_does_not_wait_for_a_writer(sqlite_db: Database) -> None:
    await ensure_tenant(sqlite_db, "acme", "Acme")
    path = sqlite_db.url.database
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        async with asyncio.timeout(2), sqlite_db.transaction(read_only=True) as tx:
            assert await tx.get(TenantRow, "acme") is not None
        await asyncio.wait_for(sqlite_db.ping(), 2)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.integration
async def test_driver_options_in_a_postgresql_url_reach_the_hot_path(
    migrated_postgres: str,
) -> None:
    """``ssl`` is asyncpg's option (the hot path's), the statement cache SQLAlchemy's own."""
    db = Database(f"{migrated_postgres}?ssl=disable&prepared_statement_cache_size=100")
    try:
        await db.scripts.start()
        await ensure_tenant(db, "acme", "Acme")
        assert await _open(db, "acme")
    finally:
        await db.aclose()


async def test_a_closed_database_refuses_scripts_as_unavailable(database_url: str) -> None:
    db = Database(database_url)
    await ensure_tenant(db, "acme", "Acme")
    assert await _open(db, "acme")
    await db.aclose()
    with pytest.raises(DependencyUnavailable):
        await _open(db, "acme")


async def test_an_unreachable_postgresql_is_unavailable() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    try:
        with pytest.raises(DependencyUnavailable):
            await _open(db, "acme")
    finally:
        await db.aclose()
