"""Background runs that continue a session, over HTTP (DBOS on SQLite inside the server, the
mock LLM in its own process): their turn is written once, in line with the session's other
runs, and they can be refused, queued or interrupted like any other run of the session."""

from __future__ import annotations

import asyncio
from typing import Any

from agents import Agent

from agenthost.testing.mock_llm.markers import strip_markers
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.test_session_busy import _items_seen
from tests.api.test_sessions import conversation
from tests.jobs.test_background_api import BACKGROUND, _events, _finished, _queue
from tests.waiting import eventually

SETTINGS = {**BACKGROUND, "session_poll_s": 0.02}


def _registry() -> Any:
    registry = build_registry(ToolLog())
    registry.register(Agent(name="chat", instructions="Repeat the user."), timeout_s=20)
    return registry


async def _history(client: Any, session_id: str) -> list[str]:
    response = await client.get(f"/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    return [strip_markers(text) for _, text in conversation(response.json())]


async def test_background_runs_of_a_session_run_in_order_and_write_their_turn_once(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(_registry(), **SETTINGS) as (client, _):
        first = await _queue(client, "chat", "first [[sleep:400]]", session_id="bg")
        second = await _queue(client, "chat", "second", session_id="bg", on_busy="enqueue")
        records = [await _finished(client, run_id) for run_id in (first, second)]
        events = await _events(client, second)
        sync = await client.post(
            "/v1/agents/chat/runs", json={"input": "third", "session_id": "bg"}
        )
        history = await _history(client, "bg")
    assert [r["status"] for r in records] == ["succeeded"] * 2, records
    assert events[-1][1] == "final"
    assert sync.status_code == 200, sync.text
    assert history == [
        "first",
        "Mock reply: first",
        "second",
        "Mock reply: second",
        "third",
        "Mock reply: third",
    ]
    seen = _items_seen(mock_llm)
    assert [seen["second"], seen["third"]] == [seen["first"] + 2, seen["first"] + 4]


async def test_a_background_run_is_refused_at_once_while_its_session_is_busy(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(_registry(), **SETTINGS) as (client, _):
        running = asyncio.create_task(
            client.post(
                "/v1/agents/chat/runs", json={"input": "slow [[sleep:600]]", "session_id": "b"}
            )
        )
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        refused = await client.post(
            "/v1/agents/chat/runs",
            json={"input": "queued?", "session_id": "b", "background": True},
        )
        assert (await running).status_code == 200
        runs = (await client.get("/v1/runs")).json()["runs"]
    assert refused.status_code == 409 and refused.json()["code"] == "SESSION_BUSY"
    assert len(runs) == 1  # nothing was queued


async def test_interrupt_cancels_a_running_background_run_of_the_session(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(_registry(), **SETTINGS) as (client, _):
        slow = await _queue(client, "chat", "slow [[sleep:3000]]", session_id="bi")
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        newer = await client.post(
            "/v1/agents/chat/runs",
            json={"input": "newer", "session_id": "bi", "on_busy": "interrupt"},
        )
        record = await _finished(client, slow)
        events = await _events(client, slow)
        history = await _history(client, "bi")
    assert newer.status_code == 200, newer.text
    assert record["status"] == "cancelled", record
    assert events[-1][1] == "error" and events[-1][2]["code"] == "RUN_CANCELLED"
    assert history == ["newer", "Mock reply: newer"]
