"""The guide's ``POST /api/agents/execute`` shapes, kept for compatibility."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agentName: str = Field(min_length=1, max_length=200)
    input: str = Field(min_length=1, pattern=r"\S")


class ExecuteResponse(BaseModel):
    success: bool
    output: Any
    requestId: str | None
    executionTime: float
