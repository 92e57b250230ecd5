"""The guide's ``POST /api/agents/execute`` shapes, kept for compatibility."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthost.api.schemas.runs import PendingApprovalOut


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agentName: str = Field(min_length=1, max_length=200)
    input: str = Field(min_length=1, pattern=r"\S")


class ExecuteResponse(BaseModel):
    success: bool
    output: Any
    requestId: str | None
    executionTime: float
    # Beyond the guide's shape: a run that stopped at tool calls that need approval.
    status: Literal["succeeded", "awaiting_approval"] = "succeeded"
    runId: str | None = Field(
        default=None, description="With `awaiting_approval`: the run to decide on."
    )
    pendingApprovals: list[PendingApprovalOut] = Field(
        default_factory=list,
        description="With `awaiting_approval`: decide with `POST /v1/runs/{runId}/approvals`.",
    )
