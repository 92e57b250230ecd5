"""A tenant's self-service: its own API keys and its own audit trail (the `keys:admin` scope).

Everything here is the caller's tenant's only: another tenant's key is 404 as if it did not
exist. A key grants no scope it does not hold, and sets no key rate limit (only an operator
does: a tenant does not raise its own limits).
"""

from __future__ import annotations

from fastapi import APIRouter

from agenthost.api.deps import ContainerDep, KeysAdminActorDep, KeysAdminDep
from agenthost.api.routes.admin import AuditCursor, AuditLimit, KeyId, audit_page
from agenthost.api.schemas.admin import AuditPage, AuditRecordOut, KeyCreated, KeyList, KeyOut
from agenthost.api.schemas.problem import problem_responses
from agenthost.store.tables import AdminAuditRow
from agenthost.tenancy.specs import KeyCreate

router = APIRouter(prefix="/v1", tags=["keys"])

OTHER_TENANT_ACTOR = "operator"
"""How ``GET /v1/audit`` names an actor of another tenant (an operator's key)."""


@router.get("/keys", response_model=KeyList, responses=problem_responses(401, 403, 429))
async def list_own_keys(container: ContainerDep, principal: KeysAdminDep) -> KeyList:
    """The caller's tenant's keys (prefixes only; keys are stored as hashes)."""
    rows = await container.admin.list_keys(principal.tenant.id)
    return KeyList(keys=[KeyOut.model_validate(row) for row in rows])


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyCreated,
    responses=problem_responses(401, 403, 422, 429),
)
async def create_own_key(
    body: KeyCreate, container: ContainerDep, principal: KeysAdminDep, actor: KeysAdminActorDep
) -> KeyCreated:
    """A new key of the caller's tenant, with scopes the caller holds; the response is the only
    time the key is shown."""
    row, plaintext = await container.admin.create_key(principal.tenant.id, body, actor=actor)
    return KeyCreated.of(row, plaintext)


@router.post(
    "/keys/{key_id}/revoke",
    response_model=KeyOut,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def revoke_own_key(
    key_id: KeyId, container: ContainerDep, principal: KeysAdminDep, actor: KeysAdminActorDep
) -> KeyOut:
    """Revoke one of the tenant's keys at once; requests with it get 401 from now on."""
    row = await container.admin.revoke_key(key_id, actor=actor, tenant_id=principal.tenant.id)
    return KeyOut.model_validate(row)


@router.get("/audit", response_model=AuditPage, responses=problem_responses(401, 403, 422, 429))
async def own_audit(
    container: ContainerDep,
    principal: KeysAdminDep,
    limit: AuditLimit = 100,
    cursor: AuditCursor = None,
) -> AuditPage:
    """Changes to the caller's tenant and its keys, newest first. A change made by another
    tenant's key (an operator) names its actor `operator`, without its key or tenant."""
    own = principal.tenant.id
    rows = await container.admin.audit(
        limit=limit, before=None if cursor is None else int(cursor), tenant_id=own
    )
    return audit_page([_seen_by(own, row) for row in rows], limit)


def _seen_by(tenant_id: str, row: AdminAuditRow) -> AuditRecordOut:
    """``row`` as ``tenant_id`` may see it: another tenant's acting key is not named."""
    record = AuditRecordOut.model_validate(row)
    if record.actor_tenant in (None, tenant_id):
        return record
    return record.model_copy(update={"actor": OTHER_TENANT_ACTOR, "actor_tenant": None})
