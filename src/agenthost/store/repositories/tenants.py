"""Tenant rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.scripts import Script, Statement, Step, decode_json
from agenthost.store.tables import TenantRow

_COLUMNS = (
    "id", "name", "disabled", "operator", "runs_per_month", "tokens_per_run",
    "max_concurrent_runs", "rate_limit", "allowed_agents", "agent_overrides",
)  # fmt: skip
FIND = Statement(f"SELECT {', '.join(_COLUMNS)} FROM tenants WHERE id = :tenant_id")  # noqa: S608


def find(tenant_id: str) -> Script[TenantRow | None]:
    """The tenant's row (its rights and limits, not its timestamps), as a script."""
    rows = yield Step(FIND, {"tenant_id": tenant_id}, fetch=True)
    if not rows:
        return None
    values = dict(zip(_COLUMNS, rows[0], strict=True))
    values["disabled"], values["operator"] = bool(values["disabled"]), bool(values["operator"])
    values["allowed_agents"] = decode_json(values["allowed_agents"])
    values["agent_overrides"] = decode_json(values["agent_overrides"]) or {}
    return TenantRow(**values)


async def get(tx: AsyncSession, tenant_id: str) -> TenantRow | None:
    return await tx.get(TenantRow, tenant_id)


async def list_all(tx: AsyncSession) -> Sequence[TenantRow]:
    return (await tx.scalars(select(TenantRow).order_by(TenantRow.id))).all()


async def add(tx: AsyncSession, row: TenantRow) -> None:
    tx.add(row)
    await tx.flush()
