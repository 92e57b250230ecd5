"""Translate the SDK's stream events into agenthost's public run events."""

from __future__ import annotations

from typing import Any

from agents.items import HandoffOutputItem, ToolCallItem, ToolCallOutputItem
from agents.stream_events import (
    AgentUpdatedStreamEvent,
    RawResponsesStreamEvent,
    RunItemStreamEvent,
    StreamEvent,
)

from agenthost.execution.types import RunEvent


def _field(raw: Any, name: str) -> Any:
    return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)


def translate(event: StreamEvent) -> RunEvent | None:
    """The public event for ``event``, or None for events clients don't need."""
    if isinstance(event, RawResponsesStreamEvent):
        if event.data.type == "response.output_text.delta":
            return RunEvent("text_delta", {"delta": event.data.delta})
        return None
    if isinstance(event, AgentUpdatedStreamEvent):
        return RunEvent("agent_updated", {"agent": event.new_agent.name})
    if isinstance(event, RunItemStreamEvent):
        return _item_event(event)
    return None


def _item_event(event: RunItemStreamEvent) -> RunEvent | None:
    item = event.item
    if event.name == "tool_called" and isinstance(item, ToolCallItem):
        raw = item.raw_item
        return RunEvent(
            "tool_called",
            {
                "agent": item.agent.name,
                "tool": _field(raw, "name"),
                "call_id": _field(raw, "call_id"),
                "arguments": _field(raw, "arguments"),
            },
        )
    if event.name == "tool_output" and isinstance(item, ToolCallOutputItem):
        return RunEvent(
            "tool_output",
            {
                "agent": item.agent.name,
                "call_id": _field(item.raw_item, "call_id"),
                "output": item.output if isinstance(item.output, str) else str(item.output),
            },
        )
    if event.name == "handoff_occured" and isinstance(item, HandoffOutputItem):
        return RunEvent(
            "handoff",
            {"from_agent": item.source_agent.name, "to_agent": item.target_agent.name},
        )
    return None
