"""Run records and the usage totals computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import RunRow


async def insert(tx: AsyncSession, row: RunRow) -> None:
    tx.add(row)
    await tx.flush()


async def finish(tx: AsyncSession, tenant_id: str, run_id: str, **values: Any) -> None:
    await tx.execute(
        update(RunRow).where(RunRow.id == run_id, RunRow.tenant_id == tenant_id).values(**values)
    )


async def abandon_expired(tx: AsyncSession, now: datetime, code: str, message: str) -> int:
    """Fail every run still ``running`` after its ``expires_at``; returns how many."""
    result = await tx.execute(
        update(RunRow)
        .where(RunRow.status == "running", RunRow.expires_at < now)
        .values(status="failed", error_code=code, error_message=message, finished_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


async def get(tx: AsyncSession, tenant_id: str, run_id: str) -> RunRow | None:
    """The run, only if it belongs to ``tenant_id`` (others' runs look missing)."""
    return await tx.scalar(select(RunRow).where(RunRow.id == run_id, RunRow.tenant_id == tenant_id))


async def page(
    tx: AsyncSession,
    tenant_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    agent: str | None = None,
    status: str | None = None,
) -> Sequence[RunRow]:
    """The tenant's runs, newest first, continuing after the (created_at, id) of ``after``."""
    statement = select(RunRow).where(RunRow.tenant_id == tenant_id)
    if after is not None:
        created, run_id = after
        statement = statement.where(
            or_(
                RunRow.created_at < created,
                and_(RunRow.created_at == created, RunRow.id < run_id),
            )
        )
    if agent is not None:
        statement = statement.where(RunRow.agent == agent)
    if status is not None:
        statement = statement.where(RunRow.status == status)
    statement = statement.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit)
    return (await tx.scalars(statement)).all()


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
