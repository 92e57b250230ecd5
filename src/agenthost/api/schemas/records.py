"""Bodies of run records, sessions and usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agenthost.api.schemas.runs import UsageOut
from agenthost.execution.types import RunStatus


class RunError(BaseModel):
    code: str
    message: str | None


RunMode = Literal["sync", "stream", "background"]


class RunStep(BaseModel):
    """A tool call or handoff of the run, by name (arguments and results are not kept)."""

    type: Literal["tool_called", "handoff"]
    at_ms: float = Field(description="Milliseconds after the run started.")
    agent: str | None = Field(default=None, description="`tool_called`: the calling agent.")
    tool: str | None = Field(default=None, description="`tool_called`: the tool's name.")
    call_id: str | None = Field(default=None, description="`tool_called`: the call's id.")
    from_agent: str | None = Field(default=None, description="`handoff`: the agent handing off.")
    to_agent: str | None = Field(default=None, description="`handoff`: the agent taking over.")


class ApprovalOut(BaseModel):
    call_id: str
    agent: str
    tool: str
    arguments: str = Field(description="The call's arguments as the model wrote them (JSON).")
    status: Literal["pending", "approved", "rejected", "expired"]
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None = Field(
        description="The API key id that decided (`cli` from the command line, `dev` in dev mode)."
    )
    message: str | None = Field(description="The reason given with the decision.")


class RunRecord(BaseModel):
    run_id: str
    agent: str
    status: RunStatus
    mode: RunMode
    session_id: str | None
    request_id: str | None
    metadata: dict[str, str]
    created_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    usage: UsageOut
    last_agent: str | None
    cached: bool
    error: RunError | None
    input: str | None = Field(description="Stored only when `store_run_content` is on.")
    output: Any = Field(
        description="Stored when `store_run_content` is on, and always for background runs."
    )
    cancel_requested: bool = Field(
        default=False, description="A cancel was asked for; the run stops at once."
    )
    steps: list[RunStep] = Field(
        default_factory=list,
        description="The run's tool calls and handoffs in order, recorded when it ends.",
    )
    trace_id: str | None = Field(
        default=None, description="The run's OpenTelemetry trace id (null: tracing off)."
    )
    approvals: list[ApprovalOut] = Field(
        default_factory=list,
        description="Tool calls the run stopped at for approval, and the decisions on them.",
    )
    approval_expires_at: datetime | None = Field(
        default=None,
        description="While `awaiting_approval`: when the run becomes `expired` unless every "
        "pending call is decided.",
    )


class RunList(BaseModel):
    runs: list[RunRecord]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class SessionOut(BaseModel):
    session_id: str
    created_at: datetime
    updated_at: datetime
    items: list[dict[str, Any]] = Field(description="The conversation, oldest first.")


class UsageLineOut(BaseModel):
    period: str = Field(description="`YYYY-MM-DD` or `YYYY-MM` (UTC).")
    agent: str
    runs: int
    succeeded: int
    failed: int = Field(description="Runs that failed or were cancelled.")
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class MonthlyQuotaOut(BaseModel):
    runs_per_month: int | None = Field(description="None: unlimited.")
    runs_counted: int = Field(description="Runs counted this month (UTC).")
    resets_at: datetime


class UsageOutReport(BaseModel):
    tenant: str
    granularity: Literal["day", "month"]
    since: date
    until: date
    totals: UsageLineOut
    periods: list[UsageLineOut]
    quota: MonthlyQuotaOut
