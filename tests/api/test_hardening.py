"""Request limits and the client address: oversized headers, stalled bodies, proxies."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import uvicorn

from agenthost.api.app import create_app
from agenthost.api.server import _uvicorn_config
from agenthost.settings import Settings
from tests.api.agents import ToolLog, build_registry
from tests.api.test_bad_input import assert_problem
from tests.waiting import eventually


async def test_oversized_headers_are_431(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), max_header_bytes=2048) as (client, _):
        refused = await client.get("/v1/agents", headers={"X-Padding": "x" * 3000})
        fine = await client.get("/v1/agents", headers={"X-Padding": "x" * 500})
    body = assert_problem(refused, 431, "HEADERS_TOO_LARGE")
    assert body["max_bytes"] == 2048
    assert fine.status_code == 200


async def test_a_stalled_body_is_408(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), body_timeout_s=0.2) as (client, _):
        port = client.base_url.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /v1/agents/echo/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"input"'
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in answer


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """The app behind uvicorn configured exactly as ``agenthost serve`` configures it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_app(settings, registry=build_registry(ToolLog()))
    server = uvicorn.Server(_uvicorn_config(settings, app))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx2.AsyncClient(base_url=url) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _third_status(client: httpx2.AsyncClient) -> int:
    """Two requests "from" one forwarded address use up its limit; the third is from another."""
    for _ in range(2):
        await client.get("/openapi.json", headers={"X-Forwarded-For": "203.0.113.1"})
    third = await client.get("/openapi.json", headers={"X-Forwarded-For": "203.0.113.2"})
    return third.status_code


async def test_forwarded_addresses_count_only_from_trusted_proxies() -> None:
    base = Settings(demo_model=True, rate_limit_per_ip="2/minute", access_log=False)
    async with _served(base) as client:
        assert await _third_status(client) == 429  # X-Forwarded-For ignored: one client
    trusted = base.model_copy(update={"trusted_proxies": ["127.0.0.0/8"]})
    async with _served(trusted) as client:
        assert await _third_status(client) == 200  # two clients behind the proxy


async def test_cors_only_for_listed_origins(agenthost_client: Any) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    async with agenthost_client(build_registry(ToolLog())) as (client, _):
        closed = await client.options("/v1/agents/echo/runs", headers=preflight)
    async with agenthost_client(
        build_registry(ToolLog()), cors_origins=["https://app.example"]
    ) as (client, _):
        allowed = await client.options("/v1/agents/echo/runs", headers=preflight)
        other = await client.options(
            "/v1/agents/echo/runs", headers={**preflight, "Origin": "https://evil.example"}
        )
        simple = await client.get("/v1/agents", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in closed.headers  # nothing by default
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
