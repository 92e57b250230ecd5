"""Runs of agents with MCP servers, over real HTTP, the model being the mock LLM's process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agents import Agent

from agenthost import AgentRegistry
from agenthost.testing.mcp_counter import recorded_calls
from tests.mcp.counter import HttpCounter, stdio_server
from tests.waiting import eventually

FAST = {
    "metrics_public": True,  # the metrics these tests read, on the API port
    "mcp_ping_interval_s": 0.1,
    "mcp_reconnect_base_s": 0.05,
    "mcp_reconnect_max_s": 0.2,
}
COUNT = '[[tool:count_visitors {"door": "north"}]] How many visitors at the north door?'
SLOW = '[[tool:slow_count {"door": "north", "delay_ms": 20000}]] Count them slowly.'


def _registry(*servers: Any, optional: Any = None) -> AgentRegistry:
    registry = AgentRegistry()
    door = Agent(name="door", instructions="Count visitors.", mcp_servers=list(servers))
    registry.register(door, timeout_s=60)
    registry.register(Agent(name="hall", mcp_servers=[servers[0]]), timeout_s=60)
    if optional is not None:
        registry.set_mcp_policy(optional, required=False)
    return registry


async def test_runs_call_the_tools_of_a_shared_server_over_one_connection(
    agenthost_client: Any, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.jsonl"
    async with agenthost_client(_registry(stdio_server(calls)), **FAST) as (client, _):
        first = await client.post("/v1/agents/door/runs", json={"input": COUNT})
        second = await client.post("/v1/agents/hall/runs", json={"input": COUNT})
        streamed = await client.post("/v1/agents/door/runs", json={"input": COUNT, "stream": True})
        ready = await client.get("/ready")
        metrics = (await client.get("/metrics")).text
    assert first.status_code == 200, first.text
    assert first.json()["output"] == "Result: door north: 1 visitors"
    assert second.json()["output"] == "Result: door north: 2 visitors"  # the same server
    assert "event: tool_called" in streamed.text and "door north: 3 visitors" in streamed.text
    assert len({call["pid"] for call in recorded_calls(calls)}) == 1
    assert ready.status_code == 200 and ready.json()["checks"]["mcp:counter"] == "ok"
    assert (
        'agenthost_mcp_calls_total{outcome="ok",server="counter",tool="count_visitors"} 3.0'
        in metrics
    )
    assert 'agenthost_mcp_server_up{server="counter"} 1.0' in metrics


async def test_a_server_killed_mid_run_is_reported_and_used_again_once_back(
    agenthost_client: Any, tmp_path: Path
) -> None:
    counter = HttpCounter(tmp_path / "calls.jsonl")
    await counter.start()
    try:
        async with agenthost_client(_registry(counter.client()), **FAST) as (client, _):
            run = asyncio.create_task(client.post("/v1/agents/door/runs", json={"input": SLOW}))
            await eventually(lambda: recorded_calls(counter.calls, "start"), timeout_s=30)
            counter.kill()
            # The model is told the tool failed; the next turn finds the server down.
            interrupted = await run
            down = await client.get("/ready")
            refused = await client.post("/v1/agents/door/runs", json={"input": COUNT})
            await counter.start()

            async def ready() -> bool:
                return (await client.get("/ready")).status_code == 200

            await eventually(ready, timeout_s=15)
            again = await client.post("/v1/agents/door/runs", json={"input": COUNT})
            metrics = (await client.get("/metrics")).text
    finally:
        counter.kill()
    assert interrupted.status_code == 503, interrupted.text
    assert interrupted.json()["code"] == "MCP_SERVER_UNAVAILABLE"
    assert "'counter' is unavailable" in interrupted.json()["detail"]
    assert down.status_code == 503
    assert down.json()["checks"]["mcp:counter"] == "down (required: runs using it fail)"
    assert refused.status_code == 503 and refused.json()["code"] == "MCP_SERVER_UNAVAILABLE"
    assert refused.json()["retriable"] is True
    assert again.status_code == 200 and again.json()["output"] == "Result: door north: 1 visitors"
    assert 'outcome="unavailable",server="counter",tool="slow_count"} 1.0' in metrics


async def test_an_optional_server_down_leaves_its_tools_out_and_the_process_ready(
    agenthost_client: Any, tmp_path: Path
) -> None:
    nobody = HttpCounter(tmp_path / "calls.jsonl")  # never started
    docs = nobody.client("docs")
    registry = _registry(stdio_server(tmp_path / "stdio.jsonl"), docs, optional=docs)
    async with agenthost_client(registry, **FAST) as (client, _):
        ready = await client.get("/ready")
        run = await client.post("/v1/agents/door/runs", json={"input": COUNT})
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["mcp:docs"] == "down (optional: its tools are left out)"
    assert run.json()["output"] == "Result: door north: 1 visitors"
