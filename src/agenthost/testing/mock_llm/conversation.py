"""The brain's normalised view of a model request and its answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UserMessage:
    text: str


@dataclass(frozen=True)
class AssistantMessage:
    text: str


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str
    """JSON-encoded arguments."""


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    output: str


ConversationItem = UserMessage | AssistantMessage | ToolCall | ToolResult


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model (function tools and handoffs alike)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    strict: bool = False


@dataclass(frozen=True)
class BrainRequest:
    system: str
    items: Sequence[ConversationItem]
    tools: Sequence[ToolSpec] = ()
    output_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BrainReply:
    """Either ``text`` or one or more ``tool_calls``, with estimated token usage."""

    text: str | None
    tool_calls: tuple[ToolCall, ...]
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
