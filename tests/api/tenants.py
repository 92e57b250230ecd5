"""Tenants and API keys for the HTTP tests, made through the running app's own admin service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from agenthost.store.tables import RunRow
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantUpdate


@dataclass(frozen=True)
class IssuedKey:
    id: str
    tenant_id: str
    plaintext: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}


def admin_of(app: Any) -> TenantAdmin:
    admin: TenantAdmin = app.state.container.admin
    return admin


async def add_tenant(app: Any, tenant_id: str, *, operator: bool = False, **limits: Any) -> None:
    """A tenant, as the CLI makes it (``operator``: an operator tenant)."""
    await admin_of(app).create_tenant(
        TenantCreate(id=tenant_id, **limits), actor=Actor.cli(), operator=operator
    )


async def update_tenant(app: Any, tenant_id: str, **changes: Any) -> None:
    await admin_of(app).update_tenant(tenant_id, TenantUpdate(**changes), actor=Actor.cli())


async def add_key(app: Any, tenant_id: str, *scopes: str, **options: Any) -> IssuedKey:
    """A key of ``tenant_id`` with ``scopes`` (default: runs:read and runs:write)."""
    spec = KeyCreate(**({"scopes": list(scopes)} if scopes else {}), **options)
    row, plaintext = await admin_of(app).create_key(tenant_id, spec, actor=Actor.cli())
    return IssuedKey(row.id, tenant_id, plaintext)


async def tenant_with_key(
    app: Any, tenant_id: str, *scopes: str, operator: bool = False, **limits: Any
) -> IssuedKey:
    await add_tenant(app, tenant_id, operator=operator, **limits)
    return await add_key(app, tenant_id, *scopes)


async def run_rows(app: Any, tenant_id: str) -> Sequence[RunRow]:
    """Every run record of ``tenant_id``, straight from the database, oldest first."""
    async with app.state.container.db.transaction() as tx:
        result = await tx.scalars(
            select(RunRow).where(RunRow.tenant_id == tenant_id).order_by(RunRow.created_at)
        )
        return result.all()


def without_request_id(problem: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in problem.items() if name != "request_id"}
