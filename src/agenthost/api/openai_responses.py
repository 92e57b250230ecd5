"""A run as OpenAI's Responses API tells it: the response object, and its streamed events
(``response.created`` … ``response.output_text.delta`` … ``response.completed``, or
``response.failed``)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal

from agenthost.api.errors import openai_error
from agenthost.api.openai_runs import output_text, sse_data
from agenthost.api.schemas.responses import (
    OutputMessage,
    OutputTextOut,
    ResponseError,
    ResponseObject,
    ResponseUsage,
)
from agenthost.api.sse import FrameSource
from agenthost.errors import AgentHostError
from agenthost.execution.pipeline import RunStream
from agenthost.execution.types import RunUsage


@dataclass(frozen=True, slots=True)
class ResponseDraft:
    """What a response says besides its outcome, known before the run starts."""

    id: str
    model: str
    created_at: int
    previous_response_id: str | None
    store: bool
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        return f"msg_{self.id.removeprefix('run_')}"

    def message(self, text: str, status: Literal["in_progress", "completed"]) -> OutputMessage:
        content = [OutputTextOut(text=text)] if status == "completed" else []
        return OutputMessage(id=self.message_id, status=status, content=content)

    def response(
        self,
        status: Literal["in_progress", "completed", "failed"],
        *,
        text: str | None = None,
        usage: RunUsage | None = None,
        error: AgentHostError | None = None,
    ) -> ResponseObject:
        return ResponseObject(
            id=self.id,
            created_at=self.created_at,
            status=status,
            model=self.model,
            output=[] if text is None else [self.message(text, "completed")],
            usage=None if usage is None else response_usage(usage),
            error=None if error is None else _failure(error),
            metadata=self.metadata,
            previous_response_id=self.previous_response_id,
            store=self.store,
        )


def response_usage(usage: RunUsage) -> ResponseUsage:
    return ResponseUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


def _failure(error: AgentHostError) -> ResponseError:
    body = openai_error(error)
    return ResponseError(code=body["code"], message=body["message"])


class _Events:
    """Numbers the events of one stream (``sequence_number``) and frames them."""

    def __init__(self, draft: ResponseDraft) -> None:
        self._draft = draft
        self._numbers = itertools.count()

    def __call__(self, kind: str, **data: Any) -> bytes:
        return sse_data({"type": kind, "sequence_number": next(self._numbers), **data}, kind)

    def response(self, kind: str, response: ResponseObject) -> bytes:
        return self(kind, response=response.model_dump(mode="json"))

    def text(self, kind: str, **data: Any) -> bytes:
        """An event of the one output text part."""
        where = {"item_id": self._draft.message_id, "output_index": 0, "content_index": 0}
        return self(kind, **where, **data)

    def opening(self) -> list[bytes]:
        """The assistant message and its text part begin."""
        message = self._draft.message("", "in_progress").model_dump(mode="json")
        return [
            self("response.output_item.added", output_index=0, item=message),
            self.text("response.content_part.added", part=_part("")),
        ]

    def closing(self, text: str) -> list[bytes]:
        message = self._draft.message(text, "completed").model_dump(mode="json")
        return [
            self.text("response.output_text.done", text=text, logprobs=[]),
            self.text("response.content_part.done", part=_part(text)),
            self("response.output_item.done", output_index=0, item=message),
        ]


def _part(text: str) -> dict[str, Any]:
    return OutputTextOut(text=text).model_dump(mode="json")


def response_frames(draft: ResponseDraft) -> FrameSource:
    """The frame source (:data:`~agenthost.api.sse.FrameSource`) of a streamed response."""

    async def frames(stream: RunStream, request_id: str | None) -> AsyncGenerator[bytes, None]:
        events = _Events(draft)
        yield events.response("response.created", draft.response("in_progress"))
        yield events.response("response.in_progress", draft.response("in_progress"))
        opened = False
        final: dict[str, Any] = {}
        try:
            async with contextlib.aclosing(stream.events()) as run_events:
                async for event in run_events:
                    if event.type == "text_delta":
                        if not opened:
                            opened = True
                            for frame in events.opening():
                                yield frame
                        yield events.text(
                            "response.output_text.delta", delta=event.data["delta"], logprobs=[]
                        )
                    elif event.type == "final":
                        final = event.data
        except AgentHostError as error:
            yield events.response("response.failed", draft.response("failed", error=error))
            return
        text = output_text(final["output"])
        for frame in [*([] if opened else events.opening()), *events.closing(text)]:
            yield frame
        usage = RunUsage(**final["usage"])
        yield events.response(
            "response.completed", draft.response("completed", text=text, usage=usage)
        )

    return frames
