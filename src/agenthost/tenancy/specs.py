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
PlainText = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""A name or label: no control characters (PostgreSQL text cannot even hold NUL)."""
MAX_INT = 2**31 - 1
"""Counts are 32-bit integers in the database."""


class AgentOverrideSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    """Model name this tenant's runs of the agent use (a deployment must serve it)."""
    timeout_s: float | None = Field(default=None, gt=0, le=86_400)
    max_turns: int | None = Field(default=None, ge=1, le=1000)
    tokens_per_run: int | None = Field(default=None, ge=1, le=MAX_INT)


class TenantLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs_per_month: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="None: unlimited."
    )
    tokens_per_run: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="None: unlimited."
    )
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
    name: PlainText = ""


class TenantUpdate(TenantLimits):
    """Only the fields sent are changed; send null to remove a limit."""

    name: PlainText | None = None
    disabled: bool | None = None
    agent_overrides: dict[AgentName, AgentOverrideSpec] | None = Field(  # type: ignore[assignment]
        default=None, max_length=1000, description="null removes every override."
    )


def _future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2030-01-01T00:00:00Z")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(default="default", min_length=1)
    scopes: list[Scope] = Field(default_factory=lambda: list(DEFAULT_SCOPES), min_length=1)
    expires_at: Annotated[datetime | None, AfterValidator(_future)] = None
    rate_limit: RateLimit | None = Field(default=None, description="None: the server default.")
