"""Conversation sessions and their items, always addressed by (tenant, session id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import SessionItemRow, SessionRow


async def get(tx: AsyncSession, tenant_id: str, session_id: str) -> SessionRow | None:
    return await tx.get(SessionRow, (tenant_id, session_id))


async def items(tx: AsyncSession, tenant_id: str, session_id: str, limit: int | None) -> list[str]:
    """Item JSON in conversation order; with ``limit``, the latest ``limit`` items."""
    statement = (
        select(SessionItemRow.data)
        .where(SessionItemRow.tenant_id == tenant_id, SessionItemRow.session_id == session_id)
        .order_by(SessionItemRow.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = (await tx.scalars(statement)).all()
    return list(reversed(rows))


async def append(
    tx: AsyncSession,
    tenant_id: str,
    session_id: str,
    data: Sequence[str],
    now: datetime,
    run_id: str | None = None,
) -> None:
    """Append items (of ``run_id``'s turn), creating the session on first use (concurrent
    first uses are safe)."""
    await insert_ignore(
        tx,
        SessionRow,
        {"tenant_id": tenant_id, "id": session_id, "created_at": now, "updated_at": now},
    )
    await tx.execute(
        update(SessionRow)
        .where(SessionRow.tenant_id == tenant_id, SessionRow.id == session_id)
        .values(updated_at=now)
    )
    if data:
        await tx.execute(
            insert(SessionItemRow),
            [
                {
                    "tenant_id": tenant_id,
                    "session_id": session_id,
                    "data": d,
                    "created_at": now,
                    "run_id": run_id,
                }
                for d in data
            ],
        )


async def has_turn_of(tx: AsyncSession, tenant_id: str, session_id: str, run_id: str) -> bool:
    """Whether the session holds items of ``run_id``'s turn."""
    found = await tx.scalar(
        select(SessionItemRow.id)
        .where(
            SessionItemRow.tenant_id == tenant_id,
            SessionItemRow.session_id == session_id,
            SessionItemRow.run_id == run_id,
        )
        .limit(1)
    )
    return found is not None


async def pop(tx: AsyncSession, tenant_id: str, session_id: str) -> str | None:
    """Remove and return the latest item; None when the session has none.

    A concurrent pop may take the item we picked first; then we pick again (each statement
    sees the latest committed items), so two pops never return the same item.
    """
    while True:
        last = await tx.scalar(
            select(func.max(SessionItemRow.id)).where(
                SessionItemRow.tenant_id == tenant_id, SessionItemRow.session_id == session_id
            )
        )
        if last is None:
            return None
        data = await tx.scalar(
            delete(SessionItemRow).where(SessionItemRow.id == last).returning(SessionItemRow.data)
        )
        if data is not None:
            return str(data)


async def clear(tx: AsyncSession, tenant_id: str, session_id: str) -> None:
    await tx.execute(
        delete(SessionItemRow).where(
            SessionItemRow.tenant_id == tenant_id, SessionItemRow.session_id == session_id
        )
    )


async def remove(tx: AsyncSession, tenant_id: str, session_id: str) -> bool:
    """Delete the session and its items; False if the tenant has no such session."""
    await clear(tx, tenant_id, session_id)
    result = await tx.execute(
        delete(SessionRow).where(SessionRow.tenant_id == tenant_id, SessionRow.id == session_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]
