"""The events of background runs (``run_events``).

The process executing a run writes them as transaction scripts (:func:`add`), several to a
statement; the ORM functions serve the rarer paths and the readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.scripts import JsonValue, Script, Statement, Step
from agenthost.store.tables import RunEventRow
from agenthost.store.types import utcnow

Event = tuple[str, str, Any]
"""An event to store: its key, its type and its data."""
BATCH = 8
"""Events carried by one INSERT statement at most."""
_ROW = "(:run_id, :key{0}, :type{0}, :data{0}, :created_at)"
ADD = tuple(
    Statement(
        "INSERT INTO run_events (run_id, key, type, data, created_at) VALUES "  # noqa: S608
        + ", ".join(_ROW.format(index) for index in range(count))
        + " ON CONFLICT DO NOTHING"
    )
    for count in range(1, BATCH + 1)
)
"""``ADD[n - 1]`` inserts n events of one run, skipping keys it has already."""

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


def add(run_id: str, events: Sequence[Event], now: datetime) -> Script[None]:
    """Add ``events`` in their order, but none whose key the run already has (a replayed
    step), in one statement per :data:`BATCH` events."""
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        params: dict[str, Any] = {"run_id": run_id, "created_at": now}
        for index, (key, type_, data) in enumerate(chunk):
            params[f"key{index}"], params[f"type{index}"] = key, type_
            params[f"data{index}"] = JsonValue(data)
        yield Step(ADD[len(chunk) - 1], params)


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
