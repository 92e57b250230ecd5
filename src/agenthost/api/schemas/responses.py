"""``POST /v1/responses``: OpenAI's Responses request and response, for agents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agenthost.api.schemas.openai import (
    Ignored,
    Metadata,
    ModelName,
    NoInstructions,
    NoTools,
    Role,
    TextFormat,
    ToolChoice,
    refuse_unless_empty,
)
from agenthost.api.schemas.runs import (
    MAX_CONVERSATION_ITEMS,
    InputImage,
    InputText,
    one_input_error,
)


class OutputText(BaseModel):
    """Text of an earlier assistant turn, as a response's output gives it back."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] = Field(default_factory=list, description="Ignored.")
    logprobs: list[dict[str, Any]] | None = Field(default=None, description="Ignored.")


class Refusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["refusal"]
    refusal: str


INCLUDE_REFUSED = "a response has nothing more to include"
ITEMS_REFUSED = (
    "only message items are accepted: tool calls, their outputs and reasoning belong to the "
    "agent's own run"
)


def _only_messages(value: Any) -> Any:
    if value != "message":
        raise PydanticCustomError("unsupported_value", ITEMS_REFUSED)
    return value


USER_PARTS = ("input_text", "input_image")
ASSISTANT_PARTS = ("output_text", "refusal")
Part = Annotated[InputText | InputImage | OutputText | Refusal, Field(discriminator="type")]


class InputMessage(BaseModel):
    """A message of the conversation: the user's (text and images) or an earlier assistant
    answer (its text). Other item types (tool calls and their outputs, reasoning) are refused:
    the agent runs its own tools."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[Literal["message"], BeforeValidator(_only_messages)] = "message"
    role: Role
    content: str | Annotated[list[Part], Field(min_length=1, max_length=100)]
    id: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="Ignored."
    )
    status: Literal["in_progress", "completed", "incomplete"] | None = Field(
        default=None, description="Ignored."
    )

    @model_validator(mode="after")
    def _parts_of_role(self) -> InputMessage:
        if not isinstance(self.content, str):
            allowed = USER_PARTS if self.role == "user" else ASSISTANT_PARTS
            if any(part.type not in allowed for part in self.content):
                raise ValueError(f"{self.role} content parts are {' or '.join(allowed)}")
        return self

    def conversation_item(self) -> dict[str, Any]:
        """The message as the Agents SDK takes it (assistant text as one string)."""
        if self.role == "user":
            content = self.content
            if isinstance(content, str):
                return {"role": "user", "content": content}
            return {"role": "user", "content": [part.model_dump() for part in content]}
        if isinstance(self.content, str):
            return {"role": "assistant", "content": self.content}
        texts = [
            part.text if isinstance(part, OutputText) else getattr(part, "refusal", "")
            for part in self.content
        ]
        return {"role": "assistant", "content": "".join(texts)}


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: TextFormat | None = None


class ResponseCreate(BaseModel):
    """OpenAI's Responses request. Parameters not listed here are refused (400)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field(description="The agent: `agent:<name>` or `<name>`.")
    input: Annotated[
        Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
        | Annotated[list[InputMessage], Field(min_length=1, max_length=MAX_CONVERSATION_ITEMS)],
        WrapValidator(one_input_error),
    ] = Field(description="The user's message, or a conversation of messages.")
    previous_response_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
        | None
    ) = Field(
        default=None,
        description="Continue the conversation that response wrote to (a response of this "
        "tenant made with `store` true).",
    )
    store: bool = Field(
        default=True,
        description="Keep the conversation (in a session named after the first response) so "
        "that `previous_response_id` can continue it. `false`: a run without a session.",
    )
    stream: bool = Field(default=False, description="Answer with OpenAI's server-sent events.")
    metadata: Metadata | None = None
    instructions: NoInstructions = None
    tools: NoTools = None
    include: Annotated[
        Annotated[list[Any], Field(max_length=0)] | None,
        BeforeValidator(refuse_unless_empty(INCLUDE_REFUSED)),
        Field(description=f"Refused unless empty or null: {INCLUDE_REFUSED}."),
    ] = None
    tool_choice: ToolChoice = None
    text: TextOptions | None = Field(
        default=None, description='Only `{"format": {"type": "text"}}`.'
    )
    parallel_tool_calls: Ignored[bool | None] = None
    temperature: Ignored[Annotated[float, Field(ge=0, le=2)] | None] = None
    top_p: Ignored[Annotated[float, Field(ge=0, le=1)] | None] = None
    max_output_tokens: Ignored[Annotated[int, Field(ge=1)] | None] = None
    truncation: Ignored[Literal["auto", "disabled"] | None] = None
    user: Ignored[Annotated[str, StringConstraints(max_length=256)] | None] = None

    @model_validator(mode="after")
    def _stored_to_continue(self) -> ResponseCreate:
        if self.previous_response_id is not None and not self.store:
            raise ValueError(
                "store: false cannot continue a conversation: previous_response_id appends "
                "to the stored conversation"
            )
        return self

    def conversation(self) -> str | list[dict[str, Any]]:
        if isinstance(self.input, str):
            return self.input
        return [message.conversation_item() for message in self.input]


class OutputTextOut(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed"]
    role: Literal["assistant"] = "assistant"
    content: list[OutputTextOut]


class InputTokensDetails(BaseModel):
    cached_tokens: int = Field(default=0, description="Not tracked: always 0.")


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = Field(default=0, description="Not tracked: always 0.")


class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


class ResponseError(BaseModel):
    code: str
    message: str


class ResponseObject(BaseModel):
    """OpenAI's Response object for one run: its id is the run's id."""

    id: str = Field(
        description="The run's id (`GET /v1/runs/{id}`); `previous_response_id` takes it."
    )
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["in_progress", "completed", "failed"]
    model: str
    output: list[OutputMessage]
    usage: ResponseUsage | None
    error: ResponseError | None = None
    incomplete_details: None = None
    instructions: None = None
    metadata: dict[str, str]
    previous_response_id: str | None
    store: bool
    parallel_tool_calls: bool = True
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    tool_choice: Literal["auto"] = "auto"
    tools: list[Any] = Field(default_factory=list)
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    truncation: Literal["disabled"] = "disabled"
    background: bool = False
    user: str | None = None
