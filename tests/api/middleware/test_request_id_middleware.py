from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from agenthost.api.middleware import RequestIdMiddleware
from agenthost.telemetry.context import current_request_id


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"state": request.state.request_id, "context": current_request_id()})


def _app(**kwargs: Any) -> RequestIdMiddleware:
    return RequestIdMiddleware(Starlette(routes=[Route("/", _echo)]), **kwargs)


def _is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4


@pytest.mark.parametrize(
    "inbound",
    [str(uuid.uuid4()), "req-12345678", "trace:abc.DEF_123", "a" * 128],
)
async def test_valid_inbound_id_is_used_everywhere(make_client, inbound: str) -> None:
    response = await make_client(_app()).get("/", headers={"X-Request-ID": inbound})
    assert response.headers["x-request-id"] == inbound
    assert response.json() == {"state": inbound, "context": inbound}


@pytest.mark.parametrize(
    "inbound",
    [
        "short",
        "a" * 129,
        "has space inside",
        "<script>alert(1)</script>",
        "x\u00e9".encode("latin-1") * 5,
    ],
)
async def test_invalid_inbound_id_is_replaced(make_client, inbound: str | bytes) -> None:
    response = await make_client(_app()).get("/", headers={"X-Request-ID": inbound})
    minted = response.headers["x-request-id"]
    assert minted != inbound
    assert _is_uuid4(minted)
    assert response.json() == {"state": minted, "context": minted}


async def test_untrusted_inbound_id_is_replaced(make_client) -> None:
    response = await make_client(_app(trust_inbound=False)).get(
        "/", headers={"X-Request-ID": "req-12345678"}
    )
    assert response.headers["x-request-id"] != "req-12345678"
    assert _is_uuid4(response.headers["x-request-id"])


async def test_missing_id_is_minted_fresh_per_request(make_client) -> None:
    client = make_client(_app())
    first, second = await client.get("/"), await client.get("/")
    assert _is_uuid4(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_custom_header_name_and_app_header_overridden(make_client) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({}, headers={"X-Correlation-ID": "set-by-the-app"})

    app = RequestIdMiddleware(Starlette(routes=[Route("/", endpoint)]), header="X-Correlation-ID")
    response = await make_client(app).get("/", headers={"X-Correlation-ID": "corr-1234567"})
    assert response.headers.get_list("x-correlation-id") == ["corr-1234567"]


async def test_context_is_reset_after_the_request(make_client) -> None:
    await make_client(_app()).get("/", headers={"X-Request-ID": "req-12345678"})
    assert current_request_id() is None


async def test_lifespan_scope_passes_through_untouched() -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await RequestIdMiddleware(inner)(scope, receive, send)
    assert seen == [{"type": "lifespan", "asgi": {"version": "3.0"}}]
