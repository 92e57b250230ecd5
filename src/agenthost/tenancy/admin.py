"""Managing tenants and API keys (the admin HTTP routes and the CLI use this)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.errors import Conflict, KeyNotFound, TenantNotFound, ValidationFailed
from agenthost.registry import AgentRegistry
from agenthost.store.database import Database
from agenthost.store.repositories import audit as audit_rows
from agenthost.store.repositories import keys as key_rows
from agenthost.store.repositories import tenants as tenant_rows
from agenthost.store.tables import AdminAuditRow, ApiKeyRow, TenantRow
from agenthost.store.types import utcnow
from agenthost.tenancy import keys
from agenthost.tenancy.audit import Actor, record
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantLimits, TenantUpdate


class TenantAdmin:
    def __init__(
        self,
        db: Database,
        registry: AgentRegistry,
        serves_model: Callable[[str], bool],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._serves_model = serves_model
        self._on_change = on_change
        """Called once a tenant was changed or a key revoked (cached principals are stale)."""

    async def create_tenant(self, spec: TenantCreate, *, actor: Actor) -> TenantRow:
        self._check_references(spec)
        now = utcnow()
        values = spec.model_dump(mode="json")
        exists = Conflict(f"tenant {spec.id!r} already exists")
        try:
            async with self._db.transaction() as tx:
                if await tenant_rows.get(tx, spec.id) is not None:
                    raise exists
                row = TenantRow(**values, disabled=False, created_at=now, updated_at=now)
                await tenant_rows.add(tx, row)
                record(
                    tx, actor, "tenant.create", tenant_id=spec.id, target=spec.id, changes=values
                )
        except IntegrityError:
            # Created by a concurrent request between our check and our insert.
            raise exists from None
        return row

    async def list_tenants(self) -> Sequence[TenantRow]:
        async with self._db.transaction(read_only=True) as tx:
            return await tenant_rows.list_all(tx)

    async def get_tenant(self, tenant_id: str) -> TenantRow:
        async with self._db.transaction(read_only=True) as tx:
            return await _tenant(tx, tenant_id)

    async def update_tenant(self, tenant_id: str, spec: TenantUpdate, *, actor: Actor) -> TenantRow:
        self._check_references(spec)
        changes = spec.model_dump(mode="json", include=spec.model_fields_set)
        if changes.get("name") is None:
            changes.pop("name", None)
        if changes.get("disabled") is None:
            changes.pop("disabled", None)
        if "agent_overrides" in changes and changes["agent_overrides"] is None:
            changes["agent_overrides"] = {}
        async with self._db.transaction() as tx:
            row = await _tenant(tx, tenant_id)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            record(
                tx, actor, "tenant.update", tenant_id=tenant_id, target=tenant_id, changes=changes
            )
        self._on_change()
        return row

    async def create_key(
        self, tenant_id: str, spec: KeyCreate, *, actor: Actor
    ) -> tuple[ApiKeyRow, str]:
        """A new key for the tenant; the plaintext is returned here and never again."""
        new = keys.generate()
        async with self._db.transaction() as tx:
            await _tenant(tx, tenant_id)
            row = ApiKeyRow(
                id=f"key_{uuid.uuid4().hex}",
                tenant_id=tenant_id,
                prefix=new.prefix,
                key_hash=new.digest,
                name=spec.name,
                scopes=sorted({s.value for s in spec.scopes}),
                rate_limit=spec.rate_limit,
                created_at=utcnow(),
                expires_at=spec.expires_at,
            )
            tx.add(row)
            record(
                tx,
                actor,
                "key.create",
                tenant_id=tenant_id,
                target=row.id,
                changes=spec.model_dump(mode="json"),
            )
        return row, new.plaintext

    async def list_keys(self, tenant_id: str) -> Sequence[ApiKeyRow]:
        async with self._db.transaction(read_only=True) as tx:
            await _tenant(tx, tenant_id)
            return await key_rows.list_for_tenant(tx, tenant_id)

    async def revoke_key(self, key_id: str, *, actor: Actor) -> ApiKeyRow:
        """Revoke ``key_id`` (again is fine: the first revocation time stays)."""
        async with self._db.transaction() as tx:
            row = await key_rows.get(tx, key_id)
            if row is None:
                raise KeyNotFound(f"no API key {key_id!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                record(tx, actor, "key.revoke", tenant_id=row.tenant_id, target=key_id, changes={})
        self._on_change()
        return row

    async def audit(
        self, *, limit: int, before: int | None = None, tenant_id: str | None = None
    ) -> Sequence[AdminAuditRow]:
        """The newest audit records (older than id ``before``), for one tenant or all."""
        async with self._db.transaction(read_only=True) as tx:
            return await audit_rows.page(tx, limit=limit, before=before, tenant_id=tenant_id)

    def _check_references(self, spec: TenantLimits) -> None:
        """Agents and models named in limits must exist: 422 naming the field otherwise."""
        errors: list[dict[str, Any]] = []
        known = {entry.name for entry in self._registry}
        for index, agent in enumerate(spec.allowed_agents or []):
            if agent not in known:
                errors.append(_error(f"allowed_agents.{index}", f"no agent named {agent!r}"))
        for agent, override in (spec.agent_overrides or {}).items():
            if agent not in known:
                errors.append(_error(f"agent_overrides.{agent}", f"no agent named {agent!r}"))
            if override.model is not None and not self._serves_model(override.model):
                errors.append(
                    _error(
                        f"agent_overrides.{agent}.model",
                        f"no model deployment serves {override.model!r}",
                    )
                )
        if errors:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            raise ValidationFailed(detail, details={"errors": errors})


def _error(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": "reference"}


async def _tenant(tx: AsyncSession, tenant_id: str) -> TenantRow:
    row = await tenant_rows.get(tx, tenant_id)
    if row is None:
        raise TenantNotFound(f"no tenant {tenant_id!r}")
    return row
