"""Normalise Responses-API input (items, tools, text format) into a ``BrainRequest``.

Shared by the mock server's ``/v1/responses`` endpoint and the offline demo model, which both
receive Responses-format items (plain dicts, or pydantic models from the openai package).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .conversation import (
    AssistantMessage,
    BrainRequest,
    ConversationItem,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)

_TEXT_PART_TYPES = frozenset({"input_text", "output_text", "text", "refusal"})


def brain_request_from_responses(
    instructions: str | None,
    input_items: str | Iterable[Any],
    tools: Iterable[ToolSpec],
    output_schema: Mapping[str, Any] | None,
) -> BrainRequest:
    """Build the brain's view of a Responses-format request."""
    system_parts = [instructions] if instructions else []
    items: list[ConversationItem] = []
    if isinstance(input_items, str):
        items.append(UserMessage(input_items))
    else:
        for raw in input_items:
            _add_item(_as_mapping(raw), system_parts, items)
    return BrainRequest(
        system="\n".join(system_parts),
        items=tuple(items),
        tools=tuple(tools),
        output_schema=output_schema,
    )


def tool_specs_from_responses(tools: Iterable[Any]) -> list[ToolSpec]:
    """Function tools from a Responses ``tools`` array; other tool types are ignored."""
    specs: list[ToolSpec] = []
    for raw in tools:
        tool = _as_mapping(raw)
        if tool.get("type") != "function" or not tool.get("name"):
            continue
        parameters = tool.get("parameters")
        specs.append(
            ToolSpec(
                name=str(tool["name"]),
                description=str(tool.get("description") or ""),
                parameters=parameters if isinstance(parameters, Mapping) else {},
                strict=bool(tool.get("strict")),
            )
        )
    return specs


def output_schema_from_text_format(text_config: Any) -> Mapping[str, Any] | None:
    """The JSON schema of a Responses ``text.format`` of type ``json_schema``/``json_object``."""
    if not isinstance(text_config, Mapping):
        return None
    fmt = text_config.get("format")
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, Mapping) else {"type": "object"}
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    return None


def content_text(content: Any) -> str:
    """Text of a message ``content``: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for raw in content:
        part = _as_mapping(raw)
        if part.get("type") in _TEXT_PART_TYPES:
            texts.append(str(part.get("text") or part.get("refusal") or ""))
    return "".join(texts)


def _add_item(item: Mapping[str, Any], system: list[str], items: list[ConversationItem]) -> None:
    kind = item.get("type")
    if kind == "function_call":
        items.append(
            ToolCall(
                call_id=str(item.get("call_id", "")),
                name=str(item.get("name", "")),
                arguments=str(item.get("arguments", "")),
            )
        )
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else content_text(output)
        items.append(ToolResult(call_id=str(item.get("call_id", "")), output=text))
    elif kind in (None, "message"):
        role = item.get("role")
        text = content_text(item.get("content"))
        if role == "user":
            items.append(UserMessage(text))
        elif role == "assistant":
            items.append(AssistantMessage(text))
        elif role in ("system", "developer"):
            system.append(text)


def _as_mapping(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    dump = getattr(raw, "model_dump", None)
    if callable(dump):
        dumped = dump(exclude_unset=True)
        if isinstance(dumped, Mapping):
            return dumped
    return {}
