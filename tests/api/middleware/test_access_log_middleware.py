from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from agenthost.api.middleware import AccessLogMiddleware, RequestIdMiddleware


def _access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "agenthost.access"]


@pytest.fixture
def access_caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="agenthost.access")
    return caplog


def _api(caplog: pytest.LogCaptureFixture) -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item": item_id}

    @api.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for n in range(3):
                # Nothing is logged while the response is still streaming.
                assert _access_records(caplog) == []
                yield f"chunk-{n}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @api.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return api


async def test_one_record_with_structured_fields(make_client, access_caplog) -> None:
    app = AccessLogMiddleware(RequestIdMiddleware(_api(access_caplog)))
    response = await make_client(app).get(
        "/items/42?api_key=hunter2", headers={"X-Request-ID": "req-abcdefgh"}
    )
    assert response.status_code == 200

    [record] = _access_records(access_caplog)
    assert record.levelno == logging.INFO
    assert record.method == "GET"
    assert record.path == "/items/42"
    assert record.route == "/items/{item_id}"
    assert record.status == 200
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    assert record.request_id == "req-abcdefgh"
    assert record.client == "127.0.0.1"
    assert record.response_bytes == len(response.content)
    assert "hunter2" not in record.getMessage()
    assert all("hunter2" not in str(v) for v in vars(record).values())


async def test_request_id_from_context_when_inside(make_client, access_caplog) -> None:
    app = RequestIdMiddleware(AccessLogMiddleware(_api(access_caplog)))
    response = await make_client(app).get("/items/1")
    [record] = _access_records(access_caplog)
    assert record.request_id == response.headers["x-request-id"]


async def test_streaming_response_logged_when_it_ends(make_client, access_caplog) -> None:
    app = AccessLogMiddleware(_api(access_caplog))
    response = await make_client(app).get("/stream")
    assert response.text == "chunk-0\nchunk-1\nchunk-2\n"
    [record] = _access_records(access_caplog)
    assert record.status == 200
    assert record.route == "/stream"
    assert record.response_bytes == len(response.content)


async def test_unknown_route_has_no_template(make_client, access_caplog) -> None:
    await make_client(AccessLogMiddleware(_api(access_caplog))).get("/missing")
    [record] = _access_records(access_caplog)
    assert record.status == 404
    assert record.route is None


async def test_exception_in_app_is_logged_as_500(make_client, access_caplog) -> None:
    app = AccessLogMiddleware(_api(access_caplog))
    with pytest.raises(RuntimeError, match="kaboom"):
        await make_client(app).get("/boom")
    [record] = _access_records(access_caplog)
    assert record.status == 500
    assert record.error == "RuntimeError"
    assert record.route == "/boom"


async def test_exception_before_any_response_is_500(asgi, access_caplog) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("no response at all")

    with pytest.raises(ValueError, match="no response"):
        await asgi(AccessLogMiddleware(broken), method="GET")
    [record] = _access_records(access_caplog)
    assert record.status == 500
    assert record.response_bytes == 0
    assert record.client == "10.0.0.1"


async def test_cancelled_request_is_logged_as_499(access_caplog) -> None:
    entered = asyncio.Event()

    async def hanging(scope: Scope, receive: Receive, send: Send) -> None:
        entered.set()
        await asyncio.Event().wait()

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/slow", "headers": []}
    task = asyncio.create_task(AccessLogMiddleware(hanging)(scope, receive, send))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [record] = _access_records(access_caplog)
    assert record.status == 499
    assert record.cancelled is True


async def test_a_disabled_access_log_leaves_the_request_alone(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="agenthost.access")
    seen: list[Send] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(send)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def server_send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await AccessLogMiddleware(app)(scope, receive, server_send)
    assert seen == [server_send]  # not wrapped: nothing to measure for a line never written
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert _access_records(caplog) == []
