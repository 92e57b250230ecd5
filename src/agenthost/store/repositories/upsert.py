"""``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.tables import Base


async def insert_ignore(tx: AsyncSession, entity: type[Base], values: dict[str, Any]) -> None:
    """Insert ``values`` unless a row with the same primary or unique key exists (race-free)."""
    module = postgresql if tx.get_bind().dialect.name == "postgresql" else sqlite
    await tx.execute(module.insert(entity).values(**values).on_conflict_do_nothing())
