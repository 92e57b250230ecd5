"""Monthly run counters and per-tenant concurrency slots, as the ORM reads and refunds them.

Reservations themselves are taken and freed by ``reservations.py`` (the hot path's scripts).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import QuotaCounterRow, RunSlotRow


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


async def slots_held(tx: AsyncSession, tenant_id: str, now: datetime) -> int:
    count = await tx.scalar(
        select(func.count())
        .select_from(RunSlotRow)
        .where(RunSlotRow.tenant_id == tenant_id, RunSlotRow.expires_at > now)
    )
    return count or 0
