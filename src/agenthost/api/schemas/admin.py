"""Bodies of the operator and self-service routes (tenants, API keys, the audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    disabled: bool
    operator: bool = Field(description="Its keys may hold the `operator` scope.")
    runs_per_month: int | None
    tokens_per_run: int | None
    max_concurrent_runs: int | None
    rate_limit: str | None
    allowed_agents: list[str] | None
    agent_overrides: dict[str, dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class TenantList(BaseModel):
    tenants: list[TenantOut]


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    prefix: str = Field(description="Public part of the key, to recognise it.")
    name: str
    scopes: list[str]
    rate_limit: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The API key. Shown only now: it is stored as a hash.")

    @classmethod
    def of(cls, row: Any, plaintext: str) -> KeyCreated:
        """The new key's row, with its plaintext (the only time it is shown)."""
        return cls(**KeyOut.model_validate(row).model_dump(), key=plaintext)


class KeyList(BaseModel):
    keys: list[KeyOut]


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str = Field(
        description="The API key id that acted, `cli`, `dev` (dev mode), or (`GET /v1/audit`) "
        "`operator` for another tenant's key."
    )
    actor_tenant: str | None = Field(
        description="The acting key's tenant (never another tenant's in `GET /v1/audit`)."
    )
    action: str = Field(description="`tenant.create`, `tenant.update`, `key.create`, `key.revoke`.")
    tenant_id: str
    target: str = Field(description="The tenant or key id acted on.")
    changes: dict[str, Any] = Field(description="The fields set (never a key or its hash).")
    request_id: str | None


class AuditPage(BaseModel):
    records: list[AuditRecordOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for older records.")
