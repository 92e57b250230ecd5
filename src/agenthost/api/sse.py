"""Server-sent events for streamed runs.

Written on Starlette's ``StreamingResponse`` rather than sse-starlette: sse-starlette patches
``uvicorn.Server.handle_exit`` when imported and ends every open stream on SIGTERM, which
would cut the in-flight runs that graceful shutdown promises to let finish.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from agenthost.api.errors import problem_body
from agenthost.errors import AgentHostError
from agenthost.execution.pipeline import RunStream

SSE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # tell nginx-style proxies not to buffer
}


def encode(event: str, data: object, event_id: int) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


async def _frames(stream: RunStream, request_id: str | None) -> AsyncIterator[bytes]:
    event_id = 0
    try:
        async for event in stream.events():
            event_id += 1
            yield encode(event.type, event.data, event_id)
    except AgentHostError as error:
        body = problem_body(error, request_id)
        body["run_id"] = stream.run_id
        yield encode("error", body, event_id + 1)


def sse_response(stream: RunStream, request_id: str | None) -> StreamingResponse:
    headers = {**SSE_HEADERS, "X-Run-ID": stream.run_id}
    return StreamingResponse(
        _frames(stream, request_id), media_type="text/event-stream", headers=headers
    )
