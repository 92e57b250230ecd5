"""Starlette's GZipMiddleware is used as is: these tests pin the behaviour we rely on."""

from __future__ import annotations

import asyncio
import gzip

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send


def _json_app(size: int):
    body = b'{"data": "' + b"a" * size + b'"}'

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_large_json_is_compressed(asgi) -> None:
    result = await asgi(
        GZipMiddleware(_json_app(10_000)), method="GET", headers=[("accept-encoding", "gzip")]
    )
    assert result.headers["content-encoding"] == "gzip"
    assert gzip.decompress(result.body).startswith(b'{"data": "aaa')
    assert int(result.headers["content-length"]) == len(result.body)


async def test_sse_is_neither_compressed_nor_buffered(asgi) -> None:
    first_event_out = asyncio.Event()
    event = b"data: " + b"x" * 2000 + b"\n\n"

    async def sse(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": event, "more_body": True})
        # Only continues once the first event has reached the client: nothing is held back.
        await asyncio.wait_for(first_event_out.wait(), timeout=5)
        await send({"type": "http.response.body", "body": event, "more_body": False})

    def on_message(message: Message) -> None:
        if message["type"] == "http.response.body":
            first_event_out.set()

    result = await asgi(
        GZipMiddleware(sse),
        method="GET",
        headers=[("accept-encoding", "gzip")],
        on_message=on_message,
    )
    assert "content-encoding" not in result.headers
    assert result.body == event + event
    assert [m["type"] for m in result.messages] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]
