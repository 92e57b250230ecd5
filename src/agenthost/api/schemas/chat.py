"""``POST /v1/chat/completions``: OpenAI's Chat Completions request and response, for
agents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from agenthost.api.schemas.openai import (
    Ignored,
    Metadata,
    ModelName,
    NoTools,
    Role,
    TextFormat,
    ToolChoice,
)
from agenthost.api.schemas.runs import MAX_CONVERSATION_ITEMS


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: str


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^(https://|data:image/)", description="An https or data: URL.")
    detail: Literal["auto", "low", "high"] = "auto"


class ImagePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["image_url"]
    image_url: ImageUrl


class ChatMessage(BaseModel):
    """A user message (text and images) or an earlier assistant answer (text). Tool messages
    and assistant tool calls are refused: the agent runs its own tools."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | Annotated[list[TextPart | ImagePart], Field(min_length=1, max_length=100)]
    name: Ignored[Annotated[str, StringConstraints(max_length=64)] | None] = None

    @model_validator(mode="after")
    def _assistant_text_only(self) -> ChatMessage:
        parts = [] if isinstance(self.content, str) else self.content
        if self.role == "assistant" and any(isinstance(part, ImagePart) for part in parts):
            raise ValueError("assistant content parts are text")
        return self

    def conversation_item(self) -> dict[str, Any]:
        """The message as the Agents SDK takes it."""
        if isinstance(self.content, str):
            return {"role": self.role, "content": self.content}
        if self.role == "assistant":
            text = "".join(part.text for part in self.content if isinstance(part, TextPart))
            return {"role": "assistant", "content": text}
        return {"role": "user", "content": [_sdk_part(part) for part in self.content]}


def _sdk_part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    return {"type": "input_image", "image_url": part.image_url.url, "detail": part.image_url.detail}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = Field(
        default=False, description="End the stream with a chunk carrying the run's usage."
    )


class ChatCompletionCreate(BaseModel):
    """OpenAI's Chat Completions request. Parameters not listed here are refused (400)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field(description="The agent: `agent:<name>` or `<name>`.")
    messages: Annotated[list[ChatMessage], Field(min_length=1, max_length=MAX_CONVERSATION_ITEMS)]
    stream: bool = Field(default=False, description="Answer with `chat.completion.chunk` events.")
    stream_options: StreamOptions | None = None
    metadata: Metadata | None = None
    n: Literal[1] | None = Field(default=None, description="Only 1.")
    tools: NoTools = None
    tool_choice: ToolChoice = None
    response_format: TextFormat | None = None
    store: Ignored[bool | None] = None
    parallel_tool_calls: Ignored[bool | None] = None
    temperature: Ignored[Annotated[float, Field(ge=0, le=2)] | None] = None
    top_p: Ignored[Annotated[float, Field(ge=0, le=1)] | None] = None
    max_tokens: Ignored[Annotated[int, Field(ge=1)] | None] = None
    max_completion_tokens: Ignored[Annotated[int, Field(ge=1)] | None] = None
    frequency_penalty: Ignored[Annotated[float, Field(ge=-2, le=2)] | None] = None
    presence_penalty: Ignored[Annotated[float, Field(ge=-2, le=2)] | None] = None
    seed: Ignored[int | None] = None
    user: Ignored[Annotated[str, StringConstraints(max_length=256)] | None] = None

    def conversation(self) -> list[dict[str, Any]]:
        return [message.conversation_item() for message in self.messages]


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """OpenAI's chat completion for one run: its id is the run's id."""

    id: str = Field(description="The run's id (`GET /v1/runs/{id}`).")
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: ChatUsage
