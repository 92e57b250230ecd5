"""API key rows (only hashes are stored)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import ApiKeyRow, TenantRow


async def by_prefix(tx: AsyncSession, prefix: str) -> tuple[ApiKeyRow, TenantRow] | None:
    row = (
        await tx.execute(
            select(ApiKeyRow, TenantRow)
            .join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
            .where(ApiKeyRow.prefix == prefix)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def list_for_tenant(tx: AsyncSession, tenant_id: str) -> Sequence[ApiKeyRow]:
    result = await tx.scalars(
        select(ApiKeyRow).where(ApiKeyRow.tenant_id == tenant_id).order_by(ApiKeyRow.created_at)
    )
    return result.all()


async def get(tx: AsyncSession, key_id: str) -> ApiKeyRow | None:
    return await tx.get(ApiKeyRow, key_id)


async def touch(tx: AsyncSession, key_id: str, now: datetime) -> None:
    await tx.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=now))
