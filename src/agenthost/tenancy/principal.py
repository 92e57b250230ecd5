"""Who is calling: a tenant (with its limits) and the key it used, with the key's scopes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from agenthost.errors import Forbidden
from agenthost.store.tables import TenantRow

DEV_TENANT = "dev"
"""The tenant of requests without a key in dev mode."""


class Scope(StrEnum):
    RUNS_WRITE = "runs:write"
    """Start runs and delete sessions."""
    RUNS_READ = "runs:read"
    """Read runs, sessions and usage."""
    KEYS_ADMIN = "keys:admin"
    """Manage the tenant's own keys and read its own audit trail (never another tenant's,
    never its own limits)."""
    OPERATOR = "operator"
    """Manage every tenant, every tenant's keys and the whole audit trail. Held only by keys
    of an operator tenant."""


DEFAULT_SCOPES = (Scope.RUNS_READ, Scope.RUNS_WRITE)


@dataclass(frozen=True, slots=True)
class AgentOverride:
    """A tenant's own settings for one agent; None keeps the agent's."""

    model: str | None = None
    timeout_s: float | None = None
    max_turns: int | None = None
    tokens_per_run: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentOverride:
        return cls(
            **{k: data.get(k) for k in ("model", "timeout_s", "max_turns", "tokens_per_run")}
        )


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str = ""
    disabled: bool = False
    operator: bool = False
    """Its keys may hold the ``operator`` scope (set only on the command line)."""
    runs_per_month: int | None = None
    tokens_per_run: int | None = None
    max_concurrent_runs: int | None = None
    rate_limit: str | None = None
    """Requests allowed over all the tenant's keys; None: the setting's default."""
    allowed_agents: frozenset[str] | None = None
    """None: every registered agent."""
    overrides: Mapping[str, AgentOverride] = field(default_factory=lambda: MappingProxyType({}))

    def may_use(self, agent: str) -> bool:
        return self.allowed_agents is None or agent in self.allowed_agents


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: Tenant
    key_id: str | None
    """None in dev mode (no key was given)."""
    scopes: frozenset[str]
    rate_limit: str | None = None
    """The key's own rate limit; None: the setting's default."""
    key_expires_at: datetime | None = None
    """When the key expires; None: never (or no key)."""

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this route needs the scope '{scope}'", details={"scope": scope.value})


def held_scopes(tenant: Tenant, scopes: Iterable[str]) -> frozenset[str]:
    """The scopes a key of ``tenant`` holds: ``operator`` only on an operator tenant, whatever
    its row says (a tenant's flag is the boundary, not the key's list)."""
    held = frozenset(scopes)
    return held if tenant.operator else held - {Scope.OPERATOR.value}


def tenant_from_row(row: TenantRow) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        disabled=row.disabled,
        operator=row.operator,
        runs_per_month=row.runs_per_month,
        tokens_per_run=row.tokens_per_run,
        max_concurrent_runs=row.max_concurrent_runs,
        rate_limit=row.rate_limit,
        allowed_agents=None if row.allowed_agents is None else frozenset(row.allowed_agents),
        overrides=MappingProxyType(
            {name: AgentOverride.from_json(o) for name, o in (row.agent_overrides or {}).items()}
        ),
    )
