"""Beyond ``max_connections`` a server process answers 503 ``OVERLOADED`` as problem+json (not
uvicorn's plain-text 503), over real loopback connections."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
from tests.api.agents import ToolLog, build_registry
from tests.api.serving import served
from tests.conftest import mock_settings
from tests.waiting import eventually

from agenthost.api.app import create_app

LIMIT = 2


async def test_a_request_beyond_the_connection_limit_gets_a_problem(mock_llm: Any) -> None:
    settings = mock_settings(mock_llm, max_connections=LIMIT)
    app = create_app(settings, registry=build_registry(ToolLog()))
    async with served(settings, app) as (url, server):
        port = int(url.rsplit(":", 1)[1])
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(LIMIT)]
        await eventually(lambda: len(server.server_state.connections) == LIMIT)
        async with httpx2.AsyncClient(base_url=url) as client:
            refused = await client.get("/v1/agents")
        for _, writer in idle:
            writer.close()
            await writer.wait_closed()
        await eventually(lambda: not server.server_state.connections)
        async with httpx2.AsyncClient(base_url=url) as client:
            served_again = await client.get("/v1/agents")
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "OVERLOADED" and problem["retriable"] is True
    assert str(LIMIT) in problem["detail"]
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-request-id"] == problem["request_id"]
    assert refused.headers["connection"] == "close"
    assert served_again.status_code == 200
