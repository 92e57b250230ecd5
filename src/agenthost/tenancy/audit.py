"""Who administers: the actor of a change to tenants or keys, and its audit record.

Every change made through :class:`~agenthost.tenancy.admin.TenantAdmin` (by the operator
routes, the self-service key routes or the CLI) writes one
:class:`~agenthost.store.tables.AdminAuditRow` in the same transaction as the change itself, so
there is no change without its record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.errors import Forbidden
from agenthost.store.tables import AdminAuditRow
from agenthost.store.types import utcnow
from agenthost.tenancy.principal import Principal

CLI_ACTOR = "cli"
DEV_ACTOR = "dev"


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    """An API key id, ``cli`` or ``dev`` (dev mode, no key)."""
    tenant_id: str | None = None
    request_id: str | None = None
    scopes: frozenset[str] | None = None
    """The scopes the actor holds, and so may grant; None: the CLI, which may grant any."""
    expires_at: datetime | None = None
    """When the acting key expires (a key it makes by self-service expires no later)."""
    rate_limit: str | None = None
    """The acting key's own rate limit (a key it makes by self-service gets it too)."""

    @classmethod
    def of(cls, principal: Principal, request_id: str | None) -> Actor:
        return cls(
            principal.key_id or DEV_ACTOR,
            principal.tenant.id,
            request_id,
            principal.scopes,
            principal.key_expires_at,
            principal.rate_limit,
        )

    def check_grant(self, scopes: Iterable[str]) -> None:
        """A key never grants a scope it does not hold itself: 403 naming the first one."""
        if self.scopes is None:
            return
        for scope in sorted(scopes):
            if scope not in self.scopes:
                raise Forbidden(
                    f"this API key cannot grant the scope '{scope}', which it does not hold",
                    details={"scope": scope},
                )

    @classmethod
    def cli(cls) -> Actor:
        return cls(CLI_ACTOR)


def record(
    tx: AsyncSession,
    actor: Actor,
    action: str,
    *,
    tenant_id: str,
    target: str,
    changes: dict[str, Any],
) -> None:
    """Add the audit record of ``action`` to the transaction that makes the change."""
    tx.add(
        AdminAuditRow(
            at=utcnow(),
            actor=actor.id,
            actor_tenant=actor.tenant_id,
            action=action,
            tenant_id=tenant_id,
            target=target,
            changes=changes,
            request_id=actor.request_id,
        )
    )
