"""The guide's ``/api/agents/execute`` route, and the probes."""

from __future__ import annotations

from typing import Any

from tests.api.agents import ToolLog, build_registry

EXECUTE = "/api/agents/execute"


async def test_execute_keeps_the_guides_shapes(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, _):
        ok = await client.post(EXECUTE, json={"agentName": "echo", "input": "hello"})
        missing = await client.post(EXECUTE, json={"agentName": "echo"})
        unknown = await client.post(EXECUTE, json={"agentName": "ghost", "input": "hello"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["success"] is True and body["output"] == "Mock reply: hello"
    assert body["requestId"] == ok.headers["x-request-id"]
    assert body["executionTime"] > 0
    assert missing.status_code == 400 and "input" in missing.json()["detail"]
    assert unknown.status_code == 404 and unknown.json()["code"] == "AGENT_NOT_FOUND"


async def test_health_and_readiness(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, app):
        health = await client.get("/health")
        ready = await client.get("/ready")
        app.state.lifecycle.begin_drain()
        draining = await client.get("/ready")
        refused = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert draining.status_code == 503 and draining.json()["status"] == "draining"
    assert refused.status_code == 503 and refused.json()["code"] == "SHUTTING_DOWN"
    assert refused.headers["retry-after"] == "1"


async def test_openapi_document_lists_the_routes(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, _):
        spec = (await client.get("/openapi.json")).json()
    assert {"/v1/agents", "/v1/agents/{agent}/runs", EXECUTE, "/health", "/ready"} <= set(
        spec["paths"]
    )
