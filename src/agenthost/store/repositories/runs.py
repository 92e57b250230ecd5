"""Run records and the usage totals computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import RunRow


async def insert(tx: AsyncSession, row: RunRow) -> None:
    tx.add(row)
    await tx.flush()


async def finish(tx: AsyncSession, run_id: str, **values: Any) -> None:
    await tx.execute(update(RunRow).where(RunRow.id == run_id).values(**values))


async def get(tx: AsyncSession, tenant_id: str, run_id: str) -> RunRow | None:
    """The run, only if it belongs to ``tenant_id`` (others' runs look missing)."""
    return await tx.scalar(select(RunRow).where(RunRow.id == run_id, RunRow.tenant_id == tenant_id))


async def usage_by_day(
    tx: AsyncSession, tenant_id: str, since_day: str, until_day: str
) -> Sequence[Row[Any]]:
    """Totals per (day, agent) of the tenant's finished runs between two UTC days, inclusive."""
    succeeded = func.sum(case((RunRow.status == "succeeded", 1), else_=0))
    result = await tx.execute(
        select(
            RunRow.day,
            RunRow.agent,
            func.count().label("runs"),
            succeeded.label("succeeded"),
            func.sum(RunRow.requests).label("requests"),
            func.sum(RunRow.input_tokens).label("input_tokens"),
            func.sum(RunRow.output_tokens).label("output_tokens"),
            func.sum(RunRow.total_tokens).label("total_tokens"),
        )
        .where(
            RunRow.tenant_id == tenant_id,
            RunRow.day >= since_day,
            RunRow.day <= until_day,
            RunRow.status != "running",
        )
        .group_by(RunRow.day, RunRow.agent)
        .order_by(RunRow.day, RunRow.agent)
    )
    rows: Sequence[Row[Any]] = result.all()
    return rows
