"""Request and response bodies of the run routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_METADATA_ITEMS = 16
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field(
        min_length=1,
        pattern=r"\S",
        description="The user's message. Control characters other than newline and tab are "
        "removed; the length limit is the server's `max_input_chars` setting.",
    )
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=SESSION_ID_PATTERN,
        description="Continue (or start) the conversation with this id, kept per tenant.",
    )
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict,
        max_length=MAX_METADATA_ITEMS,
        description=f"Up to {MAX_METADATA_ITEMS} string pairs stored with the run.",
    )
    stream: bool = Field(default=False, description="Answer with server-sent events.")
    background: bool = Field(
        default=False, description="Run durably in the background (not available yet: 501)."
    )


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
    tokens_per_run: int | None = Field(description="The caller's token limit per run.")
    cacheable: bool


class AgentList(BaseModel):
    agents: list[AgentOut]
