"""Render a ``BrainReply`` as a Responses-API ``Response`` and as its stream of events.

Shared by the mock server (which serialises the objects to JSON / SSE) and the offline demo
model (which hands them to the Agents SDK directly), so both stream exactly the same events.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItem,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from .conversation import BrainReply

_DELTA = re.compile(r"\s*\S+\s*")


def split_deltas(text: str) -> list[str]:
    """``text`` cut into one piece per word (with the whitespace after it); joins back exactly."""
    pieces: list[str] = _DELTA.findall(text)
    if "".join(pieces) != text:
        return [text] if text else []
    return pieces


def output_items(reply: BrainReply, *, message_id: str) -> list[ResponseOutputItem]:
    """The ``output`` array of the response for ``reply``."""
    if reply.tool_calls:
        return [
            ResponseFunctionToolCall(
                id="fc_" + call.call_id.removeprefix("call_"),
                call_id=call.call_id,
                name=call.name,
                arguments=call.arguments,
                type="function_call",
                status="completed",
            )
            for call in reply.tool_calls
        ]
    text = ResponseOutputText(
        type="output_text", text=reply.text or "", annotations=[], logprobs=[]
    )
    return [
        ResponseOutputMessage(
            id=message_id, type="message", role="assistant", status="completed", content=[text]
        )
    ]


def build_response(
    reply: BrainReply, *, response_id: str, model: str, created_at: float
) -> Response:
    """The completed ``Response`` (with usage) for ``reply``."""
    return Response(
        id=response_id,
        object="response",
        created_at=created_at,
        model=model,
        status="completed",
        output=output_items(reply, message_id="msg_" + response_id.removeprefix("resp_")),
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        usage=ResponseUsage(
            input_tokens=reply.input_tokens,
            input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
            output_tokens=reply.output_tokens,
            output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
            total_tokens=reply.total_tokens,
        ),
    )


def stream_events(response: Response) -> list[ResponseStreamEvent]:
    """The events OpenAI streams for ``response``: created … deltas … completed."""
    seq = itertools.count()
    pending = response.model_copy(update={"status": "in_progress", "output": [], "usage": None})
    events: list[ResponseStreamEvent] = [
        ResponseCreatedEvent(type="response.created", response=pending, sequence_number=next(seq)),
        ResponseInProgressEvent(
            type="response.in_progress", response=pending, sequence_number=next(seq)
        ),
    ]
    for index, item in enumerate(response.output):
        if isinstance(item, ResponseOutputMessage):
            events.extend(_message_events(item, index, seq))
        elif isinstance(item, ResponseFunctionToolCall):
            events.extend(_function_call_events(item, index, seq))
    events.append(
        ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=next(seq)
        )
    )
    return events


def _message_events(
    item: ResponseOutputMessage, index: int, seq: Iterator[int]
) -> list[ResponseStreamEvent]:
    opened = item.model_copy(update={"status": "in_progress", "content": []})
    events: list[ResponseStreamEvent] = [
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=opened,
            output_index=index,
            sequence_number=next(seq),
        )
    ]
    for part_index, part in enumerate(item.content):
        if isinstance(part, ResponseOutputText):
            events.extend(_text_part_events(item.id, index, part_index, part, seq))
    events.append(
        ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            item=item,
            output_index=index,
            sequence_number=next(seq),
        )
    )
    return events


def _text_part_events(
    item_id: str, index: int, part_index: int, part: ResponseOutputText, seq: Iterator[int]
) -> list[ResponseStreamEvent]:
    events: list[ResponseStreamEvent] = [
        ResponseContentPartAddedEvent(
            type="response.content_part.added",
            item_id=item_id,
            output_index=index,
            content_index=part_index,
            part=part.model_copy(update={"text": ""}),
            sequence_number=next(seq),
        )
    ]
    events.extend(
        ResponseTextDeltaEvent(
            type="response.output_text.delta",
            item_id=item_id,
            output_index=index,
            content_index=part_index,
            delta=delta,
            logprobs=[],
            sequence_number=next(seq),
        )
        for delta in split_deltas(part.text)
    )
    events.append(
        ResponseTextDoneEvent(
            type="response.output_text.done",
            item_id=item_id,
            output_index=index,
            content_index=part_index,
            text=part.text,
            logprobs=[],
            sequence_number=next(seq),
        )
    )
    events.append(
        ResponseContentPartDoneEvent(
            type="response.content_part.done",
            item_id=item_id,
            output_index=index,
            content_index=part_index,
            part=part,
            sequence_number=next(seq),
        )
    )
    return events


def _function_call_events(
    item: ResponseFunctionToolCall, index: int, seq: Iterator[int]
) -> list[ResponseStreamEvent]:
    item_id = item.id or item.call_id
    opened = item.model_copy(update={"status": "in_progress", "arguments": ""})
    return [
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=opened,
            output_index=index,
            sequence_number=next(seq),
        ),
        ResponseFunctionCallArgumentsDeltaEvent(
            type="response.function_call_arguments.delta",
            item_id=item_id,
            output_index=index,
            delta=item.arguments,
            sequence_number=next(seq),
        ),
        ResponseFunctionCallArgumentsDoneEvent(
            type="response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            arguments=item.arguments,
            sequence_number=next(seq),
        ),
        ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            item=item,
            output_index=index,
            sequence_number=next(seq),
        ),
    ]
