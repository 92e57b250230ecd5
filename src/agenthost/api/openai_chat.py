"""A run as OpenAI's Chat Completions API tells it: the completion, and its streamed
``chat.completion.chunk`` objects ending with ``data: [DONE]``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from agenthost.api.errors import openai_error
from agenthost.api.openai_runs import output_text, sse_data
from agenthost.api.schemas.chat import AssistantMessage, ChatCompletion, ChatUsage, Choice
from agenthost.api.sse import FrameSource
from agenthost.errors import AgentHostError
from agenthost.execution.pipeline import RunStream
from agenthost.execution.types import RunOutcome

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class CompletionDraft:
    """What a completion says besides its outcome, known before the run starts."""

    id: str
    model: str
    created: int

    def completion(self, outcome: RunOutcome) -> ChatCompletion:
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[Choice(message=AssistantMessage(content=output_text(outcome.output)))],
            usage=chat_usage(outcome.usage.as_dict()),
        )

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }
        return sse_data(body)

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return self.chunk([choice], **extra)


def chat_usage(usage: dict[str, int]) -> ChatUsage:
    return ChatUsage(
        prompt_tokens=usage["input_tokens"],
        completion_tokens=usage["output_tokens"],
        total_tokens=usage["total_tokens"],
    )


def chunk_frames(draft: CompletionDraft, include_usage: bool) -> FrameSource:
    """The frame source (:data:`~agenthost.api.sse.FrameSource`) of a streamed completion.

    With ``include_usage`` every chunk has ``usage: null`` and a last chunk without choices
    carries the run's usage, as OpenAI's ``stream_options.include_usage`` asks. A failure is
    a chunk ``{"error": {...}}`` (which the ``openai`` client raises as ``APIError``).
    """
    extra: dict[str, Any] = {"usage": None} if include_usage else {}

    async def frames(stream: RunStream, request_id: str | None) -> AsyncGenerator[bytes, None]:
        yield draft.delta({"role": "assistant", "content": ""}, **extra)
        streamed = False
        final: dict[str, Any] = {}
        try:
            async with contextlib.aclosing(stream.events()) as run_events:
                async for event in run_events:
                    if event.type == "text_delta":
                        streamed = True
                        yield draft.delta({"content": event.data["delta"]}, **extra)
                    elif event.type == "final":
                        final = event.data
        except AgentHostError as error:
            yield sse_data({"error": openai_error(error)})
            return
        if not streamed:  # a model that gave its answer whole, without text deltas
            yield draft.delta({"content": output_text(final["output"])}, **extra)
        yield draft.delta({}, "stop", **extra)
        if include_usage:
            usage = chat_usage(final["usage"]).model_dump()
            yield draft.chunk([], usage=usage)
        yield DONE

    return frames
