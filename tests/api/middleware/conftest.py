"""Fixtures for middleware tests: an httpx2 client factory and a raw ASGI harness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from starlette.types import ASGIApp, Message


@dataclass
class AsgiResult:
    """What an ASGI app sent, plus what it read."""

    messages: list[Message] = field(default_factory=list)
    chunks_read: int = 0

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode().lower(): v.decode() for k, v in self.messages[0].get("headers", [])}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


class AsgiHarness:
    """Calls an ASGI app directly: body chunks arrive one ``receive`` at a time."""

    async def __call__(
        self,
        app: ASGIApp,
        *,
        method: str = "POST",
        path: str = "/",
        headers: Iterable[tuple[str, str]] = (),
        chunks: Iterable[bytes] = (b"",),
        on_message: Callable[[Message], Any] | None = None,
    ) -> AsgiResult:
        result = AsgiResult()
        pending = list(chunks)
        done = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            "client": ("10.0.0.1", 4321),
            "server": ("test", 80),
        }

        async def receive() -> Message:
            if pending:
                result.chunks_read += 1
                body = pending.pop(0)
                return {"type": "http.request", "body": body, "more_body": bool(pending)}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            result.messages.append(message)
            if on_message is not None:
                on_message(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app(scope, receive, send)
        return result


@pytest.fixture
def asgi() -> AsgiHarness:
    return AsgiHarness()


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., httpx2.AsyncClient]]:
    clients: list[httpx2.AsyncClient] = []

    def factory(app: ASGIApp, base_url: str = "http://test", **kw: Any) -> httpx2.AsyncClient:
        transport = httpx2.ASGITransport(app=app, **kw)
        client = httpx2.AsyncClient(transport=transport, base_url=base_url)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
