"""Admin audit rows, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import AdminAuditRow


async def page(
    tx: AsyncSession, *, limit: int, before: int | None = None, tenant_id: str | None = None
) -> Sequence[AdminAuditRow]:
    """Up to ``limit`` records older than id ``before``, for one tenant or all."""
    query = select(AdminAuditRow).order_by(AdminAuditRow.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AdminAuditRow.id < before)
    if tenant_id is not None:
        query = query.where(AdminAuditRow.tenant_id == tenant_id)
    return (await tx.scalars(query)).all()
