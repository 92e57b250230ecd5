"""Chat Completions: request → ``BrainRequest``, ``BrainReply`` → completion / chunks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conversation import (
    AssistantMessage,
    BrainReply,
    BrainRequest,
    ConversationItem,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from .response_output import split_deltas
from .responses_input import content_text


def brain_request_from_chat(body: Mapping[str, Any]) -> BrainRequest:
    """The brain's view of a ``/v1/chat/completions`` body. ValueError when malformed."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty array")
    system: list[str] = []
    items: list[ConversationItem] = []
    for message in messages:
        if not isinstance(message, Mapping):
            raise ValueError("each message must be an object")
        _add_message(message, system, items)
    return BrainRequest(
        system="\n".join(system),
        items=tuple(items),
        tools=tuple(_tool_specs(body.get("tools"))),
        output_schema=_output_schema(body.get("response_format")),
    )


def _add_message(
    message: Mapping[str, Any], system: list[str], items: list[ConversationItem]
) -> None:
    role = message.get("role")
    text = content_text(message.get("content"))
    if role in ("system", "developer"):
        system.append(text)
    elif role == "user":
        items.append(UserMessage(text))
    elif role == "assistant":
        if text:
            items.append(AssistantMessage(text))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            items.append(
                ToolCall(
                    call_id=str(call.get("id", "")),
                    name=str(function.get("name", "")),
                    arguments=str(function.get("arguments", "")),
                )
            )
    elif role == "tool":
        items.append(ToolResult(call_id=str(message.get("tool_call_id", "")), output=text))


def _tool_specs(tools: Any) -> list[ToolSpec]:
    specs: list[ToolSpec] = []
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or not function.get("name"):
            continue
        parameters = function.get("parameters")
        specs.append(
            ToolSpec(
                name=str(function["name"]),
                description=str(function.get("description") or ""),
                parameters=parameters if isinstance(parameters, Mapping) else {},
                strict=bool(function.get("strict")),
            )
        )
    return specs


def _output_schema(response_format: Any) -> Mapping[str, Any] | None:
    if not isinstance(response_format, Mapping):
        return None
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return schema if isinstance(schema, Mapping) else {"type": "object"}
    if response_format.get("type") == "json_object":
        return {"type": "object"}
    return None


def usage_json(reply: BrainReply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.total_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _tool_calls_json(reply: BrainReply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in reply.tool_calls
    ]


def completion_json(
    reply: BrainReply, *, completion_id: str, model: str, created: int
) -> dict[str, Any]:
    """A whole ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls_json(reply)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": usage_json(reply),
    }


def completion_chunks(
    reply: BrainReply, *, completion_id: str, model: str, created: int, include_usage: bool
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer (usage last, if asked)."""
    deltas: list[dict[str, Any]] = []
    if reply.tool_calls:
        deltas.append({"role": "assistant", "content": None})
        for index, call in enumerate(reply.tool_calls):
            head = {
                "index": index,
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            deltas.append({"tool_calls": [head]})
            deltas.append(
                {"tool_calls": [{"index": index, "function": {"arguments": call.arguments}}]}
            )
    else:
        deltas.append({"role": "assistant", "content": "", "refusal": None})
        deltas.extend({"content": piece} for piece in split_deltas(reply.text or ""))
    finish = "tool_calls" if reply.tool_calls else "stop"
    choices: list[list[dict[str, Any]]] = [
        [{"index": 0, "delta": d, "finish_reason": None, "logprobs": None}] for d in deltas
    ]
    choices.append([{"index": 0, "delta": {}, "finish_reason": finish, "logprobs": None}])
    base: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }
    chunks: list[dict[str, Any]] = [
        {**base, "choices": c, **({"usage": None} if include_usage else {})} for c in choices
    ]
    if include_usage:
        chunks.append({**base, "choices": [], "usage": usage_json(reply)})
    return chunks
