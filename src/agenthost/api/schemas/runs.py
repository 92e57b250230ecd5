"""Request and response bodies of the run routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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
        default=False,
        description="Queue the run and answer 202 at once; it runs durably (it survives a "
        "crash of the process running it). Follow it at `GET /v1/runs/{run_id}` and "
        "`GET /v1/runs/{run_id}/events`.",
    )
    webhook_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="With `background`: POST the finished run here, signed with HMAC-SHA256 "
        "(`X-AgentHost-Signature`).",
    )

    @model_validator(mode="after")
    def _check_modes(self) -> RunCreate:
        if self.background and self.stream:
            raise ValueError("stream and background cannot both be true")
        if self.webhook_url is not None and not self.background:
            raise ValueError("webhook_url needs background: true")
        return self


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


class RunAccepted(BaseModel):
    run_id: str
    status: str = Field(description="`queued`.")
    location: str = Field(description="Where to follow the run (also the `Location` header).")
    events: str = Field(description="The run's events as server-sent events.")
    request_id: str | None


class CancelOut(BaseModel):
    run_id: str
    status: str = Field(
        description="`cancelled` if it was still queued; `running` while its process stops it."
    )


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
