"""Every tenant and every tenant's API keys (every route needs the `operator` scope)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query

from agenthost.api.deps import ContainerDep, OperatorActorDep, OperatorDep
from agenthost.api.schemas.admin import (
    AuditPage,
    AuditRecordOut,
    KeyCreated,
    KeyList,
    KeyOut,
    TenantList,
    TenantOut,
)
from agenthost.api.schemas.problem import problem_responses
from agenthost.tenancy.specs import TENANT_ID_PATTERN, KeyCreate, TenantCreate, TenantUpdate

router = APIRouter(prefix="/v1/admin", tags=["admin"])

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, description="The tenant's id.")]
KeyId = Annotated[
    str, Path(max_length=40, pattern=r"^[A-Za-z0-9_]+$", description="The key's `id`.")
]
ERRORS = problem_responses(401, 403, 404, 422, 429)


@router.post(
    "/tenants",
    status_code=201,
    response_model=TenantOut,
    responses=problem_responses(401, 403, 409, 422, 429),
)
async def create_tenant(
    body: TenantCreate, container: ContainerDep, actor: OperatorActorDep
) -> TenantOut:
    return TenantOut.model_validate(await container.admin.create_tenant(body, actor=actor))


@router.get("/tenants", response_model=TenantList, responses=ERRORS)
async def list_tenants(container: ContainerDep, _: OperatorDep) -> TenantList:
    rows = await container.admin.list_tenants()
    return TenantList(tenants=[TenantOut.model_validate(row) for row in rows])


@router.get("/tenants/{tenant_id}", response_model=TenantOut, responses=ERRORS)
async def get_tenant(tenant_id: TenantId, container: ContainerDep, _: OperatorDep) -> TenantOut:
    return TenantOut.model_validate(await container.admin.get_tenant(tenant_id))


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, responses=ERRORS)
async def update_tenant(
    tenant_id: TenantId, body: TenantUpdate, container: ContainerDep, actor: OperatorActorDep
) -> TenantOut:
    """Change limits, allow-list, overrides, name, or disable/enable the tenant."""
    row = await container.admin.update_tenant(tenant_id, body, actor=actor)
    return TenantOut.model_validate(row)


@router.post(
    "/tenants/{tenant_id}/keys", status_code=201, response_model=KeyCreated, responses=ERRORS
)
async def create_key(
    tenant_id: TenantId, body: KeyCreate, container: ContainerDep, actor: OperatorActorDep
) -> KeyCreated:
    """A new API key; the response is the only time the key is shown."""
    row, plaintext = await container.admin.create_key(tenant_id, body, actor=actor)
    return KeyCreated.of(row, plaintext)


@router.get("/tenants/{tenant_id}/keys", response_model=KeyList, responses=ERRORS)
async def list_keys(tenant_id: TenantId, container: ContainerDep, _: OperatorDep) -> KeyList:
    rows = await container.admin.list_keys(tenant_id)
    return KeyList(keys=[KeyOut.model_validate(row) for row in rows])


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, responses=ERRORS)
async def revoke_key(key_id: KeyId, container: ContainerDep, actor: OperatorActorDep) -> KeyOut:
    """Revoke a key at once; requests with it get 401 from now on."""
    return KeyOut.model_validate(await container.admin.revoke_key(key_id, actor=actor))


AuditLimit = Annotated[int, Query(ge=1, le=500, description="Records per page.")]
AuditCursor = Annotated[
    str | None, Query(pattern=r"^[1-9][0-9]{0,17}$", description="`next_cursor` of a page.")
]


def audit_page(records: Sequence[AuditRecordOut], limit: int) -> AuditPage:
    """A page of audit records, with the cursor of the next (older) one if there may be more."""
    more = len(records) == limit and records[-1].id > 1
    return AuditPage(records=list(records), next_cursor=str(records[-1].id) if more else None)


@router.get("/audit", response_model=AuditPage, responses=problem_responses(401, 403, 422, 429))
async def audit(
    container: ContainerDep,
    _: OperatorDep,
    limit: AuditLimit = 100,
    tenant_id: Annotated[
        str | None, Query(pattern=TENANT_ID_PATTERN, description="Only this tenant's.")
    ] = None,
    cursor: AuditCursor = None,
) -> AuditPage:
    """Changes to tenants and keys (HTTP and CLI alike), newest first: who, what, when."""
    rows = await container.admin.audit(
        limit=limit, before=None if cursor is None else int(cursor), tenant_id=tenant_id
    )
    return audit_page([AuditRecordOut.model_validate(row) for row in rows], limit)
