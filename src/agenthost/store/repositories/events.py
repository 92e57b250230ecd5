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


def stop_key(stop: int) -> str:
    """The key of the ``final`` event ending a run's ``stop``-th stop for approval."""
    return f"{END}:{stop}"


def is_end(key: str) -> bool:
    """Whether ``key`` names a last event (of the run, or of one of its stops)."""
    return key == END or key.startswith(f"{END}:")


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


async def latest_ends(tx: AsyncSession, run_id: str) -> bool:
    """Whether the run's latest event is a last one (see :func:`is_end`)."""
    key = await tx.scalar(
        select(RunEventRow.key)
        .where(RunEventRow.run_id == run_id)
        .order_by(RunEventRow.id.desc())
        .limit(1)
    )
    return key is not None and is_end(key)


async def has(tx: AsyncSession, run_id: str, key: str) -> bool:
    found = await tx.scalar(
        select(RunEventRow.id).where(RunEventRow.run_id == run_id, RunEventRow.key == key)
    )
    return found is not None
