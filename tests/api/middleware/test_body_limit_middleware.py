from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from agenthost.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from agenthost.api.middleware.body_limit import BodyTooLarge

LIMIT = 1024


class Payload(BaseModel):
    text: str


class Recorder:
    def __init__(self) -> None:
        self.called = False

    async def endpoint(self, request: Request) -> JSONResponse:
        self.called = True
        body = await request.body()
        return JSONResponse({"received": len(body)})


def _app(recorder: Recorder) -> RequestIdMiddleware:
    inner = Starlette(routes=[Route("/", recorder.endpoint, methods=["POST"])])
    return RequestIdMiddleware(BodyLimitMiddleware(inner, max_bytes=LIMIT))


async def _chunks(total: int, size: int = 100) -> AsyncIterator[bytes]:
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


def _assert_problem(status: int, headers: dict[str, str], body: bytes, code: str) -> dict:
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["request_id"] == headers["x-request-id"]
    return problem


async def test_declared_length_over_limit_is_refused_unread(asgi) -> None:
    recorder = Recorder()
    result = await asgi(
        _app(recorder), headers=[("content-length", str(LIMIT + 1))], chunks=[b"x" * (LIMIT + 1)]
    )
    assert result.status == 413
    problem = _assert_problem(413, result.headers, result.body, "PAYLOAD_TOO_LARGE")
    assert f"{LIMIT} bytes" in problem["detail"]
    assert result.chunks_read == 0
    assert not recorder.called


async def test_declared_length_over_limit_via_client(make_client) -> None:
    recorder = Recorder()
    response = await make_client(_app(recorder)).post("/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert not recorder.called


async def test_chunked_body_over_limit_gets_413(make_client) -> None:
    recorder = Recorder()
    response = await make_client(_app(recorder)).post("/", content=_chunks(LIMIT + 50))
    assert response.status_code == 413
    problem = _assert_problem(413, dict(response.headers), response.content, "PAYLOAD_TOO_LARGE")
    assert problem["max_bytes"] == LIMIT


async def test_chunked_body_over_limit_stops_reading(asgi) -> None:
    recorder = Recorder()
    result = await asgi(_app(recorder), chunks=[b"x" * 600] * 10)
    assert result.status == 413
    assert result.chunks_read == 2  # stopped at the first chunk past the limit


@pytest.mark.parametrize("chunked", [False, True])
async def test_exactly_at_limit_passes(make_client, chunked: bool) -> None:
    content = _chunks(LIMIT) if chunked else b"x" * LIMIT
    response = await make_client(_app(Recorder())).post("/", content=content)
    assert response.status_code == 200
    assert response.json() == {"received": LIMIT}


@pytest.mark.parametrize("values", [["abc"], ["-1"], ["1e3"], [" "], ["10", "20"]], ids=str)
async def test_invalid_content_length_is_400(asgi, values: list[str]) -> None:
    recorder = Recorder()
    headers = [("content-length", v) for v in values]
    result = await asgi(_app(recorder), headers=headers, chunks=[b"x" * 10])
    assert result.status == 400
    _assert_problem(400, result.headers, result.body, "MALFORMED_REQUEST")
    assert not recorder.called


async def test_fastapi_body_parsing_does_not_turn_413_into_400(make_client) -> None:
    api = FastAPI()

    @api.post("/")
    async def create(payload: Payload) -> dict[str, int]:
        return {"length": len(payload.text)}

    app = RequestIdMiddleware(BodyLimitMiddleware(api, max_bytes=LIMIT))
    big = json.dumps({"text": "y" * 2 * LIMIT}).encode()
    response = await make_client(app).post(
        "/", content=_chunks_of(big), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert f"{LIMIT} bytes" in response.json()["detail"]
    small = await make_client(app).post("/", json={"text": "hello"})
    assert small.json() == {"length": 5}


async def _chunks_of(data: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_limit_exceeded_after_response_started_aborts(asgi) -> None:
    async def streaming_reader(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass

    with pytest.raises(BodyTooLarge):
        await asgi(BodyLimitMiddleware(streaming_reader, max_bytes=LIMIT), chunks=[b"x" * 600] * 3)


async def test_non_http_scope_passes_through() -> None:
    calls: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        pass

    scope = {"type": "websocket", "headers": [(b"content-length", b"99999")]}
    await BodyLimitMiddleware(inner, max_bytes=LIMIT)(scope, receive, send)
    assert calls == ["websocket"]
