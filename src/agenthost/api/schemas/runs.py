"""Request and response bodies of the run routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_METADATA_ITEMS = 16


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field(
        min_length=1,
        description="The user's message. Control characters other than newline and tab are "
        "removed; the length limit is the server's `max_input_chars` setting.",
    )
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Continue a conversation (not available yet: 501).",
    )
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description=f"Up to {MAX_METADATA_ITEMS} string pairs stored with the run.",
    )
    stream: bool = Field(default=False, description="Answer with server-sent events.")
    background: bool = Field(
        default=False, description="Run durably in the background (not available yet: 501)."
    )

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_METADATA_ITEMS:
            raise ValueError(f"at most {MAX_METADATA_ITEMS} entries")
        for key, item in value.items():
            if not 1 <= len(key) <= 64 or len(item) > 512:
                raise ValueError("keys must be 1-64 characters and values at most 512")
        return value


class UsageOut(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class RunResponse(BaseModel):
    run_id: str
    agent: str
    output: Any = Field(description="A string, or JSON for agents with a structured output.")
    usage: UsageOut
    cached: bool
    duration_ms: float
    request_id: str | None


class AgentOut(BaseModel):
    name: str
    description: str
    version: str
    timeout_s: float
    max_turns: int
    cacheable: bool


class AgentList(BaseModel):
    agents: list[AgentOut]
