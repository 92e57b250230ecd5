"""Responses API: request body → ``BrainRequest``, ``BrainReply`` → JSON / SSE bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai.types.responses import Response

from .conversation import BrainRequest
from .delivery import sse_message
from .response_output import stream_events
from .responses_input import (
    brain_request_from_responses,
    output_schema_from_text_format,
    tool_specs_from_responses,
)


def brain_request_from_body(body: Mapping[str, Any]) -> BrainRequest:
    """The brain's view of a ``/v1/responses`` body. ValueError when malformed."""
    input_items = body.get("input")
    if not isinstance(input_items, str | list):
        raise ValueError("'input' must be a string or an array of items")
    instructions = body.get("instructions")
    tools = body.get("tools")
    return brain_request_from_responses(
        instructions if isinstance(instructions, str) else None,
        input_items,
        tool_specs_from_responses(tools if isinstance(tools, list) else []),
        output_schema_from_text_format(body.get("text")),
    )


def response_json(response: Response) -> dict[str, Any]:
    """The ``response`` object as OpenAI returns it from a non-streamed call."""
    return response.model_dump(mode="json", exclude_unset=True)


def response_sse(response: Response) -> list[bytes]:
    """The typed SSE messages (``event: response.created`` … ``response.completed``)."""
    return [
        sse_message(event.model_dump(mode="json", exclude_unset=True), event=event.type)
        for event in stream_events(response)
    ]
