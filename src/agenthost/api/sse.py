"""Server-sent events for streamed runs.

Written on Starlette's ``StreamingResponse`` rather than sse-starlette: sse-starlette's
responses end every open stream on SIGTERM, which would cut the in-flight runs that graceful
shutdown promises to let finish. (sse-starlette is still installed and imported, by the SDK's
``mcp`` dependency, and patches ``uvicorn.Server.handle_exit`` on import; our
``DrainingServer`` overrides that method, so the patch does not reach our shutdown.)

The run's events are produced in their own task so that, while a model call or a tool is
slow, a keep-alive comment can still go out (proxies close idle connections). When the client
goes away, Starlette cancels the response, which cancels the producer and so the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from agenthost.api.errors import problem_body
from agenthost.errors import AgentHostError
from agenthost.execution.pipeline import RunStream

KEEPALIVE = b": keep-alive\n\n"


def encode(event: str, data: object, event_id: int) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


FrameSource = Callable[[RunStream, str | None], AsyncGenerator[bytes, None]]
"""What a streamed run is written as: agenthost's own events (:func:`run_frames`), or another
API's (the OpenAI-compatible routes)."""


async def run_frames(stream: RunStream, request_id: str | None) -> AsyncGenerator[bytes, None]:
    """agenthost's run events; a failure ends them with an ``error`` event (a problem)."""
    event_id = 0
    try:
        async with contextlib.aclosing(stream.events()) as events:
            async for event in events:
                event_id += 1
                yield encode(event.type, event.data, event_id)
    except AgentHostError as error:
        body = problem_body(error, request_id)
        body["run_id"] = stream.run_id
        yield encode("error", body, event_id + 1)


async def _produce(
    source: AsyncGenerator[bytes, None], frames: asyncio.Queue[bytes | None]
) -> None:
    try:
        async with contextlib.aclosing(source):
            async for frame in source:
                await frames.put(frame)
    finally:
        frames.put_nowait(None)


async def _frames(source: AsyncGenerator[bytes, None], keepalive_s: float) -> AsyncIterator[bytes]:
    frames: asyncio.Queue[bytes | None] = asyncio.Queue()
    producer = asyncio.create_task(_produce(source, frames))
    try:
        while True:
            try:
                frame = await asyncio.wait_for(frames.get(), keepalive_s)
            except TimeoutError:
                yield KEEPALIVE
                continue
            if frame is None:
                break
            yield frame
        await producer
    finally:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer


class RunStreamResponse(StreamingResponse):
    """Settles the run even if the response never gets to read its events."""

    def __init__(self, stream: RunStream, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._stream.discard()


def sse_response(
    stream: RunStream,
    request_id: str | None,
    keepalive_s: float,
    frames: FrameSource = run_frames,
) -> StreamingResponse:
    headers = {
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # ask nginx-style proxies not to buffer the stream
        "X-Run-ID": stream.run_id,
    }
    return RunStreamResponse(
        stream,
        _frames(frames(stream, request_id), keepalive_s),
        media_type="text/event-stream",
        headers=headers,
    )
