"""Request and response bodies of the run routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_METADATA_ITEMS = 16
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]


MAX_CONVERSATION_ITEMS = 1000


class InputText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["input_text"]
    text: str


class InputImage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["input_image"]
    image_url: str = Field(
        pattern=r"^(https://|data:image/)", description="An https URL or a data: URL."
    )
    detail: Literal["auto", "low", "high"] = "auto"


ContentPart = Annotated[InputText | InputImage, Field(discriminator="type")]


class InputMessage(BaseModel):
    """One message of a conversation input (assistant messages are plain text)."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str | Annotated[list[ContentPart], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _assistant_text_only(self) -> InputMessage:
        if self.role == "assistant" and not isinstance(self.content, str):
            raise ValueError("assistant messages carry their text as a string")
        return self


def one_input_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Report a bad ``input`` (a string or a list of messages) as one error of the shape that
    was sent, not one per shape it might have been."""
    try:
        return handler(value)
    except ValidationError as exc:
        if not isinstance(value, str | list):
            raise PydanticCustomError(
                "input_type", "must be a string or a list of messages"
            ) from None
        sent_list = isinstance(value, list)
        errors = exc.errors()
        shaped = [e for e in errors if str(e["loc"][0]).startswith("list[") == sent_list]
        # Within it, the deepest error, and a nested list's own rather than "not a string".
        error = max(shaped or errors, key=lambda e: (len(e["loc"]), "str" not in e["loc"]))
        where = ".".join(str(part) for part in error["loc"][1:] if not _union_branch(part))
        message = f"{where}: {error['msg']}" if where else error["msg"]
        raise PydanticCustomError(error["type"], "{message}", {"message": message}) from None


def _union_branch(part: str | int) -> bool:
    """A location part naming which alternative of a union failed, not a field."""
    return part == "str" or str(part).startswith(("list[", "tagged-union["))


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Annotated[
        Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
        | Annotated[list[InputMessage], Field(min_length=1, max_length=MAX_CONVERSATION_ITEMS)],
        WrapValidator(one_input_error),
    ] = Field(
        description="The user's message, or a conversation (messages with text or, for agents "
        "that accept them, image parts). The agent's input policy applies: control characters "
        "other than newline and tab are removed, text is Unicode-normalised, lengths are "
        "limited (by default the server's `max_input_chars`); text is never HTML-escaped.",
    )
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=SESSION_ID_PATTERN,
        description="Continue (or start) the conversation with this id, kept per tenant.",
    )
    on_busy: Literal["reject", "enqueue", "interrupt"] = Field(
        default="reject",
        description="With `session_id`, when another run of the session is in flight: "
        "`reject` (409 `SESSION_BUSY`), `enqueue` (run after it, in arrival order; waiting "
        "counts against the run's deadline) or `interrupt` (cancel it, then run).",
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

    def conversation(self) -> str | list[dict[str, Any]]:
        """The input as the Agents SDK takes it."""
        if isinstance(self.input, str):
            return self.input
        return [message.model_dump(exclude_defaults=False) for message in self.input]


class UsageOut(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class PendingApprovalOut(BaseModel):
    call_id: str
    agent: str = Field(description="The agent that asked for the call.")
    tool: str
    arguments: str = Field(description="The call's arguments as the model wrote them (JSON).")


class RunResponse(BaseModel):
    run_id: str
    agent: str
    status: Literal["succeeded", "awaiting_approval"] = Field(
        default="succeeded",
        description="`awaiting_approval`: the run stopped at tool calls that need a decision "
        "(`pending_approvals`; decide with `POST /v1/runs/{run_id}/approvals`).",
    )
    output: Any = Field(description="A string, or JSON for agents with a structured output.")
    usage: UsageOut
    cached: bool
    duration_ms: float
    request_id: str | None
    pending_approvals: list[PendingApprovalOut] = Field(
        default_factory=list, description="With `awaiting_approval`: the calls to decide."
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=128, description="A pending call's id.")
    approve: bool
    message: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="With `approve: false`: the reason, sent to the model as the call's result "
        "(else the SDK's default message is); control characters other than newline and tab "
        "are removed.",
    )


class ApprovalsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[DecisionIn] = Field(min_length=1, max_length=100)
    background: bool = Field(
        default=False,
        description="Continue the run in the background (202) instead of the way it started "
        "(a background run always continues in the background).",
    )


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
    tools: list[str] = Field(description="The agent's tools, by name.")
    handoffs: list[str] = Field(description="The agents it may hand off to, by name.")
    needs_approval: bool = Field(
        description="A function tool of the agent (or of an agent it hands off to) has "
        "`needs_approval` set: it asks for a human's approval (agenthost has no approvals API "
        "yet)."
    )


class AgentList(BaseModel):
    agents: list[AgentOut]
