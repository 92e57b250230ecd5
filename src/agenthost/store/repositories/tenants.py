"""Tenant rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import TenantRow


async def get(tx: AsyncSession, tenant_id: str) -> TenantRow | None:
    return await tx.get(TenantRow, tenant_id)


async def list_all(tx: AsyncSession) -> Sequence[TenantRow]:
    return (await tx.scalars(select(TenantRow).order_by(TenantRow.id))).all()


async def add(tx: AsyncSession, row: TenantRow) -> None:
    tx.add(row)
    await tx.flush()
