"""Runs over real HTTP: agenthost in front of the mock LLM (itself a separate process)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry


@pytest.fixture
def log() -> ToolLog:
    return ToolLog()


async def test_sync_run_returns_output_and_usage(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.post(
            "/v1/agents/orders/runs",
            json={"input": "Where is my order A-17?"},
            headers={"X-Request-ID": "req-12345678"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == "orders"
    assert body["output"] == "Result: order A-17 shipped"
    assert body["usage"]["requests"] == 2  # tool call, then the answer
    assert body["usage"]["total_tokens"] > 0
    assert body["request_id"] == "req-12345678"
    assert body["run_id"].startswith("run_") and body["cached"] is False
    assert log.lookups == 1
    assert response.headers["x-request-id"] == "req-12345678"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_structured_output_is_json(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log), api="responses") as (client, _):
        response = await client.post("/v1/agents/ticket/runs", json={"input": "Printer broken"})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == {"title": "Printer broken", "priority": 0}


async def test_agents_are_listed(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.get("/v1/agents")
    agents = {a["name"]: a for a in response.json()["agents"]}
    assert set(agents) == {"echo", "orders", "reports", "ticket"}
    assert agents["echo"]["timeout_s"] == 2 and len(agents["echo"]["version"]) == 16
    assert agents["orders"]["tools"] == ["lookup_order"] and agents["orders"]["handoffs"] == []
    assert not any(agent["needs_approval"] for agent in agents.values())


async def test_stream_delivers_deltas_then_final(agenthost_client: Any, log: ToolLog) -> None:
    async with (
        agenthost_client(build_registry(log)) as (client, _),
        client.stream(
            "POST", "/v1/agents/echo/runs", json={"input": "one two three four", "stream": True}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = (await response.aread()).decode()
    events = [_parse(block) for block in raw.strip().split("\n\n")]
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "run_started" and kinds[-1] == "final"
    deltas = [data["delta"] for kind, data in events if kind == "text_delta"]
    assert len(deltas) >= 4
    assert kinds.index("final") > max(i for i, k in enumerate(kinds) if k == "text_delta")
    final = events[-1][1]
    assert final["output"] == "".join(deltas) == "Mock reply: one two three four"
    assert final["usage"]["requests"] == 1
    assert final["usage"]["output_tokens"] > 0  # streamed chat completions report usage too


async def test_stream_reports_tool_events(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.post(
            "/v1/agents/orders/runs", json={"input": "Status of order B-2?", "stream": True}
        )
    events = [_parse(block) for block in response.text.strip().split("\n\n")]
    kinds = [kind for kind, _ in events]
    assert kinds.index("tool_called") < kinds.index("tool_output") < kinds.index("final")
    called = dict(events)["tool_called"]
    assert called["tool"] == "lookup_order" and json.loads(called["arguments"]) == {
        "order_id": "B-2"
    }


def _parse(block: str) -> tuple[str, dict[str, Any]]:
    fields = dict(line.split(": ", 1) for line in block.splitlines())
    return fields["event"], json.loads(fields["data"])


async def test_slow_stream_sends_keep_alives(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log), sse_keepalive_s=0.2) as (client, _):
        response = await client.post(
            "/v1/agents/echo/runs", json={"input": "[[sleep:1000]] wait", "stream": True}
        )
    blocks = response.text.strip().split("\n\n")
    assert ": keep-alive" in blocks
    assert blocks[0].startswith("id: 1\nevent: run_started")
    assert "event: final" in blocks[-1]
