"""Processes executing background runs and their heartbeats (``executors``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import ExecutorRow


async def get(tx: AsyncSession, executor_id: str) -> ExecutorRow | None:
    return await tx.get(ExecutorRow, executor_id)


async def register(tx: AsyncSession, row: ExecutorRow) -> None:
    """Insert or take over the row of ``row.id`` (the caller checked it is not alive)."""
    await tx.merge(row)


async def beat(tx: AsyncSession, executor_id: str, instance: str, now: datetime) -> bool:
    """Record that the process is alive; False if its row was taken over or removed."""
    result = await tx.execute(
        update(ExecutorRow)
        .where(ExecutorRow.id == executor_id, ExecutorRow.instance == instance)
        .values(heartbeat_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def silent_since(
    tx: AsyncSession, cutoff: datetime, app_version: str
) -> Sequence[ExecutorRow]:
    """Executors of ``app_version`` whose last heartbeat is older than ``cutoff``."""
    statement = select(ExecutorRow).where(
        ExecutorRow.heartbeat_at < cutoff, ExecutorRow.app_version == app_version
    )
    return (await tx.scalars(statement)).all()


async def claim(tx: AsyncSession, executor_id: str, instance: str) -> bool:
    """Remove a dead executor's row; True for the one caller that removed it."""
    result = await tx.execute(
        delete(ExecutorRow).where(ExecutorRow.id == executor_id, ExecutorRow.instance == instance)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_silent(tx: AsyncSession, executor_id: str, instance: str, at: datetime) -> None:
    """Backdate the heartbeat of an exiting process, so others treat it as dead at once."""
    await tx.execute(
        update(ExecutorRow)
        .where(ExecutorRow.id == executor_id, ExecutorRow.instance == instance)
        .values(heartbeat_at=at)
    )
