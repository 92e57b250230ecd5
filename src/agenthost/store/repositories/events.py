"""The events of background runs (``run_events``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import RunEventRow
from agenthost.store.types import utcnow

END = "end"
"""The key of a run's last event (``final`` or ``error``): a run has one."""


async def append(tx: AsyncSession, run_id: str, key: str, type_: str, data: Any) -> None:
    """Add an event unless the run already has one with ``key`` (a replayed step)."""
    await insert_ignore(
        tx,
        RunEventRow,
        {"run_id": run_id, "key": key, "type": type_, "data": data, "created_at": utcnow()},
    )


async def after(tx: AsyncSession, run_id: str, last_id: int, limit: int) -> Sequence[RunEventRow]:
    """The run's events after event ``last_id``, oldest first."""
    statement = (
        select(RunEventRow)
        .where(RunEventRow.run_id == run_id, RunEventRow.id > last_id)
        .order_by(RunEventRow.id)
        .limit(limit)
    )
    return (await tx.scalars(statement)).all()


async def has(tx: AsyncSession, run_id: str, key: str) -> bool:
    found = await tx.scalar(
        select(RunEventRow.id).where(RunEventRow.run_id == run_id, RunEventRow.key == key)
    )
    return found is not None
