"""Managing tenants and API keys (the operator and self-service routes and the CLI use this).

Who may do what is decided here, not only by the routes: the :class:`Actor` of every change
grants no scope it does not hold, only an operator sets a key's own rate limit, the
``operator`` scope goes only to keys of an operator tenant, and operator tenants are made
only on the command line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Container, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.errors import Conflict, Forbidden, KeyNotFound, TenantNotFound, ValidationFailed
from agenthost.store.database import Database
from agenthost.store.repositories import audit as audit_rows
from agenthost.store.repositories import keys as key_rows
from agenthost.store.repositories import tenants as tenant_rows
from agenthost.store.tables import AdminAuditRow, ApiKeyRow, TenantRow
from agenthost.store.types import utcnow
from agenthost.tenancy import keys
from agenthost.tenancy.audit import Actor, record
from agenthost.tenancy.principal import Scope
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantLimits, TenantUpdate


class TenantAdmin:
    def __init__(
        self,
        db: Database,
        known_agents: Callable[[], Container[str]],
        serves_model: Callable[[str], bool],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._known_agents = known_agents
        """The registered agents' names; asked only when a spec names agents (the CLI loads
        the agents module only then)."""
        self._serves_model = serves_model
        self._on_change = on_change
        """Called once a tenant was changed or a key revoked (cached principals are stale)."""

    async def create_tenant(
        self, spec: TenantCreate, *, actor: Actor, operator: bool = False
    ) -> TenantRow:
        """A new tenant; ``operator`` (its keys may hold the ``operator`` scope) only from the
        command line."""
        if operator and actor.scopes is not None:
            raise Forbidden("operator tenants are created only on the command line")
        self._check_references(spec)
        exists = Conflict(f"tenant {spec.id!r} already exists")
        try:
            async with self._db.transaction() as tx:
                if await tenant_rows.get(tx, spec.id) is not None:
                    raise exists
                row = await _add_tenant(tx, spec, actor, operator=operator)
        except IntegrityError:
            # Created by a concurrent request between our check and our insert.
            raise exists from None
        return row

    async def bootstrap_operator(
        self, tenant: TenantCreate, key: KeyCreate, *, actor: Actor
    ) -> tuple[TenantRow, ApiKeyRow, str]:
        """The operator tenant ``tenant`` (created unless it exists as one) and a new key of
        it, in one transaction; refused for an existing tenant that is not an operator, and
        (like every operator tenant) to anyone but the command line."""
        if actor.scopes is not None:
            raise Forbidden("operator tenants are created only on the command line")
        try:
            async with self._db.transaction() as tx:
                row = await tenant_rows.get(tx, tenant.id)
                if row is None:
                    self._check_references(tenant)
                    row = await _add_tenant(tx, tenant, actor, operator=True)
                elif not row.operator:
                    raise Conflict(
                        f"tenant {tenant.id!r} exists and is not an operator tenant; "
                        "bootstrap another id"
                    )
                new, plaintext = _add_key(tx, row, key, actor)
        except IntegrityError:
            raise Conflict(f"tenant {tenant.id!r} was created at the same time") from None
        return row, new, plaintext

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
        """A new key for the tenant; the plaintext is returned here and never again.

        403 for a scope the actor does not hold itself, or a key rate limit set by anyone but
        an operator (a tenant does not raise its own limits); 422 for ``operator`` on a tenant
        that is not an operator tenant. A key made by anyone but an operator has the acting
        key's own rate limit and expires no later than it."""
        actor.check_grant(scope.value for scope in spec.scopes)
        if actor.scopes is not None and Scope.OPERATOR not in actor.scopes:
            spec = _within_actor(spec, actor)
        async with self._db.transaction() as tx:
            return _add_key(tx, await _tenant(tx, tenant_id), spec, actor)

    async def list_keys(self, tenant_id: str) -> Sequence[ApiKeyRow]:
        async with self._db.transaction(read_only=True) as tx:
            await _tenant(tx, tenant_id)
            return await key_rows.list_for_tenant(tx, tenant_id)

    async def revoke_key(
        self, key_id: str, *, actor: Actor, tenant_id: str | None = None
    ) -> ApiKeyRow:
        """Revoke ``key_id`` (again is fine: the first revocation time stays); with
        ``tenant_id``, a key of another tenant is 404 as if it did not exist."""
        async with self._db.transaction() as tx:
            row = await key_rows.get(tx, key_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
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
        if not spec.allowed_agents and not spec.agent_overrides:
            return
        known = self._known_agents()
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


def _within_actor(spec: KeyCreate, actor: Actor) -> KeyCreate:
    """``spec`` as a tenant's own key may make it: no rate limit of its own choosing (the
    acting key's, if it has one), and no later expiry than the acting key's (403)."""
    if spec.rate_limit is not None:
        raise Forbidden(
            "setting a key's own rate_limit needs the scope 'operator' "
            "(a tenant does not set its own limits)",
            details={"scope": Scope.OPERATOR.value},
        )
    expires_at = spec.expires_at
    if actor.expires_at is not None:
        if expires_at is not None and expires_at > actor.expires_at:
            raise Forbidden(
                f"expires_at: a key cannot outlive the key that makes it, which expires at "
                f"{actor.expires_at.isoformat()}"
            )
        expires_at = expires_at or actor.expires_at
    return spec.model_copy(update={"expires_at": expires_at, "rate_limit": actor.rate_limit})


async def _add_tenant(
    tx: AsyncSession, spec: TenantCreate, actor: Actor, *, operator: bool
) -> TenantRow:
    now = utcnow()
    values = spec.model_dump(mode="json")
    row = TenantRow(**values, disabled=False, operator=operator, created_at=now, updated_at=now)
    await tenant_rows.add(tx, row)
    changes = {**values, "operator": True} if operator else values
    record(tx, actor, "tenant.create", tenant_id=spec.id, target=spec.id, changes=changes)
    return row


def _add_key(
    tx: AsyncSession, tenant: TenantRow, spec: KeyCreate, actor: Actor
) -> tuple[ApiKeyRow, str]:
    scopes = sorted({s.value for s in spec.scopes})
    if Scope.OPERATOR.value in scopes and not tenant.operator:
        raise ValidationFailed(
            f"scopes: only keys of an operator tenant may hold the scope 'operator' "
            f"(tenant {tenant.id!r} is not one)",
            details={"errors": [_error("scopes", "not an operator tenant", "scope")]},
        )
    new = keys.generate()
    row = ApiKeyRow(
        id=f"key_{uuid.uuid4().hex}",
        tenant_id=tenant.id,
        prefix=new.prefix,
        key_hash=new.digest,
        name=spec.name,
        scopes=scopes,
        rate_limit=spec.rate_limit,
        created_at=utcnow(),
        expires_at=spec.expires_at,
    )
    tx.add(row)
    record(
        tx,
        actor,
        "key.create",
        tenant_id=tenant.id,
        target=row.id,
        changes=spec.model_dump(mode="json"),
    )
    return row, new.plaintext


def _error(field: str, message: str, kind: str = "reference") -> dict[str, Any]:
    return {"field": field, "message": message, "type": kind}


async def _tenant(tx: AsyncSession, tenant_id: str) -> TenantRow:
    row = await tenant_rows.get(tx, tenant_id)
    if row is None:
        raise TenantNotFound(f"no tenant {tenant_id!r}")
    return row
