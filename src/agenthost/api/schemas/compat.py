"""The guide's ``POST /api/agents/execute`` shapes, kept for compatibility."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ExecuteRequest(BaseModel):
    agentName: str | None = Field(default=None, max_length=64)
    input: str | None = None


class ExecuteResponse(BaseModel):
    success: bool
    output: Any
    requestId: str | None
    executionTime: float
