"""Atomic quota reservations: monthly run counters and per-tenant concurrency slots.

A reservation is decided by one conditional write (an ``UPDATE ... WHERE runs < limit``, an
``INSERT ... SELECT ... WHERE count < limit`` behind a lock of the tenant row on PostgreSQL;
SQLite has one writer at a time), so concurrent transactions — in one process or many — can
never take more than the limit between them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import QuotaCounterRow, RunSlotRow, TenantRow


async def count_run(tx: AsyncSession, tenant_id: str, period: str, limit: int | None) -> bool:
    """Count one run in ``period``; False (nothing counted) if ``limit`` runs already were.

    The month's counter row is created by its first run (one statement more, that once).
    """
    statement = (
        update(QuotaCounterRow)
        .where(QuotaCounterRow.tenant_id == tenant_id, QuotaCounterRow.period == period)
        .values(runs=QuotaCounterRow.runs + 1)
        .execution_options(synchronize_session=False)
    )
    if limit is not None:
        # Re-evaluated on the latest row version after a lock wait (PostgreSQL read committed).
        statement = statement.where(QuotaCounterRow.runs < limit)
    if (await tx.execute(statement)).rowcount == 1:  # type: ignore[attr-defined]
        return True
    await insert_ignore(tx, QuotaCounterRow, {"tenant_id": tenant_id, "period": period, "runs": 0})
    result = await tx.execute(statement)
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


async def uncount_run(tx: AsyncSession, tenant_id: str, period: str) -> None:
    await tx.execute(
        update(QuotaCounterRow)
        .where(
            QuotaCounterRow.tenant_id == tenant_id,
            QuotaCounterRow.period == period,
            QuotaCounterRow.runs > 0,
        )
        .values(runs=QuotaCounterRow.runs - 1)
        .execution_options(synchronize_session=False)
    )


async def runs_counted(tx: AsyncSession, tenant_id: str, period: str) -> int:
    runs = await tx.scalar(
        select(QuotaCounterRow.runs).where(
            QuotaCounterRow.tenant_id == tenant_id, QuotaCounterRow.period == period
        )
    )
    return runs or 0


async def take_slot(
    tx: AsyncSession, tenant_id: str, run_id: str, limit: int, now: datetime, expires: datetime
) -> bool:
    """Take one of ``limit`` concurrency slots for ``run_id``; False if all are taken.

    When all are, expired leases (runs of a crashed process) are freed and the slot is tried
    again. On PostgreSQL the tenant row is locked so that concurrent transactions count slots
    one after another (SQLite has one writer at a time). The lock is ``FOR NO KEY UPDATE``:
    unlike ``FOR UPDATE`` it does not block the foreign-key checks of inserts that reference
    the tenant (quota counters, run records), which would deadlock with a concurrent admission
    that already holds the month's counter and is about to insert its run record.
    """
    if tx.get_bind().dialect.name == "postgresql":
        await tx.execute(
            select(TenantRow.id).where(TenantRow.id == tenant_id).with_for_update(key_share=True)
        )
    if await _insert_slot(tx, tenant_id, run_id, limit, expires):
        return True
    freed = await tx.execute(
        delete(RunSlotRow)
        .where(RunSlotRow.tenant_id == tenant_id, RunSlotRow.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    if not freed.rowcount:  # type: ignore[attr-defined]
        return False
    return await _insert_slot(tx, tenant_id, run_id, limit, expires)


async def _insert_slot(
    tx: AsyncSession, tenant_id: str, run_id: str, limit: int, expires: datetime
) -> bool:
    held = (
        select(func.count())
        .select_from(RunSlotRow)
        .where(RunSlotRow.tenant_id == tenant_id)
        .scalar_subquery()
    )
    result = await tx.execute(
        insert(RunSlotRow).from_select(
            ["run_id", "tenant_id", "expires_at"],
            select(
                literal(run_id), literal(tenant_id), literal(expires, RunSlotRow.expires_at.type)
            ).where(held < limit),
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


async def free_slot(tx: AsyncSession, tenant_id: str, run_id: str) -> None:
    await tx.execute(
        delete(RunSlotRow)
        .where(RunSlotRow.run_id == run_id, RunSlotRow.tenant_id == tenant_id)
        .execution_options(synchronize_session=False)
    )


async def slots_held(tx: AsyncSession, tenant_id: str, now: datetime) -> int:
    count = await tx.scalar(
        select(func.count())
        .select_from(RunSlotRow)
        .where(RunSlotRow.tenant_id == tenant_id, RunSlotRow.expires_at > now)
    )
    return count or 0
