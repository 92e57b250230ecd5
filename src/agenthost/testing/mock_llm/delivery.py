"""How an answer (or a fault) goes onto the wire, at the ASGI level.

Every wait (latency, chunk delay, hang) races the client's ``http.disconnect``, so a client that
goes away is noticed at once and counted in ``stats.disconnects``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .faults import FaultSpec
from .stats import MockLLMStats

_JSON = (b"content-type", b"application/json")
_SSE_HEADERS = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)
_ERRORS: Mapping[str, tuple[int, str, str, str]] = MappingProxyType(
    {
        "429": (429, "Rate limit reached (mock fault).", "requests", "rate_limit_exceeded"),
        "500": (
            500,
            "The server had an error processing your request (mock fault).",
            "server_error",
            "internal_error",
        ),
        "503": (
            503,
            "The server is overloaded (mock fault).",
            "server_error",
            "service_unavailable",
        ),
    }
)


def error_body(message: str, error_type: str, code: str | None) -> bytes:
    """OpenAI's error body shape."""
    error = {"message": message, "type": error_type, "param": None, "code": code}
    return json.dumps({"error": error}).encode()


def sse_message(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


async def until_disconnect(receive: Receive, work: Callable[[], Awaitable[None]]) -> bool:
    """Run ``work`` unless the client disconnects first. True when ``work`` finished."""
    disconnected = False
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            nonlocal disconnected
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected = True
            group.cancel_scope.cancel()

        group.start_soon(watch)
        await work()
        group.cancel_scope.cancel()
    return not disconnected


@dataclass(frozen=True)
class Delivery:
    """What to send: a JSON body or SSE chunks, after ``delay_ms``, unless ``fault`` is set."""

    delay_ms: int
    streamed: bool
    body: bytes = b""
    chunks: Sequence[bytes] = ()
    chunk_delay_ms: int = 0
    fault: FaultSpec | None = None
    retry_after_s: float = 1.0
    call: str = ""
    """Names the call in ``MockLLMStats.completed_calls``."""


class DeliveryResponse(Response):
    """A Starlette response that carries out a ``Delivery`` on the raw ASGI channel."""

    def __init__(self, delivery: Delivery, stats: MockLLMStats) -> None:
        super().__init__()
        self.delivery = delivery
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.delivery
        if not await until_disconnect(receive, lambda: anyio.sleep(plan.delay_ms / 1000)):
            self.stats.disconnects += 1
            return
        if plan.fault is None:
            await self._answer(receive, send, plan.chunks if plan.streamed else None)
        else:
            await self._fault(plan.fault, receive, send)

    async def _answer(self, receive: Receive, send: Send, chunks: Sequence[bytes] | None) -> None:
        if chunks is None:
            await _send_whole(send, 200, [_JSON], self.delivery.body)
            self.stats.completed_calls[self.delivery.call] += 1
            return
        delay = self.delivery.chunk_delay_ms / 1000
        await send({"type": "http.response.start", "status": 200, "headers": list(_SSE_HEADERS)})

        async def pump() -> None:
            for index, chunk in enumerate(chunks):
                if index and delay:
                    await anyio.sleep(delay)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        if not await until_disconnect(receive, pump):
            self.stats.disconnects += 1
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.stats.completed_calls[self.delivery.call] += 1

    async def _fault(self, fault: FaultSpec, receive: Receive, send: Send) -> None:
        if fault.kind == "hang":
            await until_disconnect(receive, anyio.sleep_forever)
            self.stats.disconnects += 1
        elif fault.kind == "drop":
            # Promise a body, then return without it: uvicorn closes the connection and the
            # client sees the peer go away mid-response.
            headers = [_JSON, (b"content-length", b"4096"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        elif fault.kind == "malformed":
            await self._malformed(send)
        else:
            status, message, error_type, code = _ERRORS[fault.kind]
            headers = [_JSON]
            if status == 429:
                headers.append((b"retry-after", f"{self.delivery.retry_after_s:g}".encode()))
            await _send_whole(send, status, headers, error_body(message, error_type, code))

    async def _malformed(self, send: Send) -> None:
        if not self.delivery.streamed:
            await _send_whole(send, 200, [_JSON], b'{"id": "malformed", "choices": [{"index": 0,')
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(_SSE_HEADERS)})
        broken = b'event: response.created\ndata: {"id": "malformed", "choices": [\n\n'
        await send({"type": "http.response.body", "body": broken, "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


async def _send_whole(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
