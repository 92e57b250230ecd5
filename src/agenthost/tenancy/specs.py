"""What an administrator may set on tenants and keys, validated (HTTP and CLI alike)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from agenthost.registry import NAME_PATTERN
from agenthost.settings import check_rate_limit
from agenthost.tenancy.principal import DEFAULT_SCOPES, Scope

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
AgentName = Annotated[str, StringConstraints(pattern=NAME_PATTERN.pattern)]
RateLimit = Annotated[str, StringConstraints(max_length=200), AfterValidator(check_rate_limit)]


class AgentOverrideSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, max_length=128)
    """Model name this tenant's runs of the agent use (a deployment must serve it)."""
    timeout_s: float | None = Field(default=None, gt=0, le=86_400)
    max_turns: int | None = Field(default=None, ge=1, le=1000)
    tokens_per_run: int | None = Field(default=None, ge=1)


class TenantLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs_per_month: int | None = Field(default=None, ge=0, description="None: unlimited.")
    tokens_per_run: int | None = Field(default=None, ge=1, description="None: unlimited.")
    max_concurrent_runs: int | None = Field(
        default=None, ge=1, le=100_000, description="None: unlimited."
    )
    rate_limit: RateLimit | None = Field(
        default=None, description="e.g. `600/minute` over all keys; None: the server default."
    )
    allowed_agents: list[AgentName] | None = Field(
        default=None, max_length=1000, description="None: every agent."
    )
    agent_overrides: dict[AgentName, AgentOverrideSpec] = Field(
        default_factory=dict, max_length=1000
    )


class TenantCreate(TenantLimits):
    id: str = Field(pattern=TENANT_ID_PATTERN, description="Lowercase slug, e.g. `acme`.")
    name: str = Field(default="", max_length=200)


class TenantUpdate(TenantLimits):
    """Only the fields sent are changed; send null to remove a limit."""

    name: str | None = Field(default=None, max_length=200)
    disabled: bool | None = None
    agent_overrides: dict[AgentName, AgentOverrideSpec] | None = Field(  # type: ignore[assignment]
        default=None, max_length=1000, description="null removes every override."
    )


def _future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2030-01-01T00:00:00Z")
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value.astimezone(UTC)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=200)
    scopes: list[Scope] = Field(default_factory=lambda: list(DEFAULT_SCOPES), min_length=1)
    expires_at: Annotated[datetime | None, AfterValidator(_future)] = None
    rate_limit: RateLimit | None = Field(default=None, description="None: the server default.")
