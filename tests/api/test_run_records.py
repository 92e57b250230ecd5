"""Run records over real HTTP: ``GET /v1/runs/{id}`` after sync, streamed and failed runs."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from unittest.mock import ANY

import pytest
from agents import Agent

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import run_rows
from tests.waiting import eventually


@pytest.fixture
def log() -> ToolLog:
    return ToolLog()


def events_of(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def assert_timings(record: dict[str, Any]) -> None:
    created = datetime.fromisoformat(record["created_at"])
    finished = datetime.fromisoformat(record["finished_at"])
    assert created.tzinfo is not None and created <= finished
    assert record["duration_ms"] > 0


async def test_a_sync_run_is_recorded(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.post(
            "/v1/agents/orders/runs",
            json={"input": "Where is my order A-17?", "metadata": {"ticket": "T-9"}},
            headers={"X-Request-ID": "req-records-1"},
        )
        run = response.json()
        record = (await client.get(f"/v1/runs/{run['run_id']}")).json()
    assert response.status_code == 200, response.text
    assert record["run_id"] == run["run_id"] and record["agent"] == "orders"
    assert record["status"] == "succeeded" and record["mode"] == "sync"
    assert record["usage"] == run["usage"] and record["usage"]["requests"] == 2
    assert record["error"] is None and record["cached"] is False
    assert record["last_agent"] == "orders" and record["session_id"] is None
    assert record["request_id"] == "req-records-1" and record["metadata"] == {"ticket": "T-9"}
    assert record["input"] is None and record["output"] is None  # content is off by default
    assert_timings(record)
    # The record is closed just after the response's duration was taken.
    assert run["duration_ms"] <= record["duration_ms"] < run["duration_ms"] + 1000


async def test_a_streamed_run_is_recorded(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.post(
            "/v1/agents/echo/runs", json={"input": "stream me", "stream": True}
        )
        events = events_of(response.text)
        record = (await client.get(f"/v1/runs/{response.headers['x-run-id']}")).json()
    kind, final = events[-1]
    assert kind == "final" and final["run_id"] == response.headers["x-run-id"]
    assert record["status"] == "succeeded" and record["mode"] == "stream"
    assert record["usage"] == final["usage"] and record["usage"]["output_tokens"] > 0
    assert record["output"] is None
    assert_timings(record)


@pytest.mark.parametrize("stream", [False, True])
async def test_content_is_stored_when_enabled(
    agenthost_client: Any, log: ToolLog, stream: bool
) -> None:
    registry = build_registry(log)
    async with agenthost_client(registry, store_run_content=True, api="responses") as (client, _):
        response = await client.post(
            "/v1/agents/ticket/runs", json={"input": "Printer\x07 broken", "stream": stream}
        )
        run_id = response.headers.get("x-run-id") or response.json()["run_id"]
        record = (await client.get(f"/v1/runs/{run_id}")).json()
    assert response.status_code == 200, response.text
    assert record["input"] == "Printer broken"  # as the model saw it (control chars removed)
    assert record["output"] == {"title": "Printer broken", "priority": 0}


async def test_failed_runs_record_their_error(agenthost_client: Any, log: ToolLog) -> None:
    registry = build_registry(log, slow_timeout_s=0.3)
    async with agenthost_client(registry) as (client, app):
        sync = await client.post(
            "/v1/agents/reports/runs",
            json={"input": "a slow report"},
            headers={"X-Request-ID": "req-timeout-1"},
        )
        [row] = await run_rows(app, "dev")
        assert sync.json()["run_id"] == sync.headers["x-run-id"] == row.id
        stream = await client.post(
            "/v1/agents/reports/runs", json={"input": "a slow report", "stream": True}
        )
        kind, problem = events_of(stream.text)[-1]
        records = [
            (await client.get(f"/v1/runs/{run_id}")).json()
            for run_id in (row.id, stream.headers["x-run-id"])
        ]
    assert sync.status_code == 504 and sync.json()["code"] == "RUN_TIMEOUT"
    assert row.request_id == "req-timeout-1"
    assert kind == "error" and problem["code"] == "RUN_TIMEOUT"
    assert problem["run_id"] == stream.headers["x-run-id"]
    for record, mode in zip(records, ("sync", "stream"), strict=True):
        assert record["status"] == "failed" and record["mode"] == mode
        assert record["error"]["code"] == "RUN_TIMEOUT" and record["error"]["message"]
        assert record["usage"]["requests"] == 1  # the call that asked for the slow tool
        assert_timings(record)
        assert record["duration_ms"] >= 300


async def test_a_run_in_flight_is_running_then_cancelled_when_the_client_leaves(
    agenthost_client: Any, log: ToolLog
) -> None:
    registry = build_registry(log, slow_timeout_s=30)
    async with agenthost_client(registry) as (client, _):
        async with client.stream(
            "POST", "/v1/agents/reports/runs", json={"input": "a slow report", "stream": True}
        ) as response:
            run_id = response.headers["x-run-id"]
            await asyncio.wait_for(log.slow_started.wait(), 10)
            running = (await client.get(f"/v1/runs/{run_id}")).json()
        await asyncio.wait_for(log.slow_cancelled.wait(), 10)

        async def cancelled() -> bool:
            record = (await client.get(f"/v1/runs/{run_id}")).json()
            return bool(record["status"] == "cancelled")

        await eventually(cancelled)
        record = (await client.get(f"/v1/runs/{run_id}")).json()
    assert running["status"] == "running" and running["finished_at"] is None
    assert running["duration_ms"] is None and running["error"] is None
    assert record["error"]["code"] == "RUN_CANCELLED"
    assert record["finished_at"] is not None


async def test_unknown_and_invalid_run_ids(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        missing = await client.get("/v1/runs/run_nope")
        too_long = await client.get("/v1/runs/" + "r" * 65)
    assert missing.status_code == 404 and missing.json()["code"] == "RUN_NOT_FOUND"
    assert too_long.status_code == 422
    assert [e["field"] for e in too_long.json()["errors"]] == ["path.run_id"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for the run records' database: the test's SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("migrated_postgres")}


@pytest.mark.parametrize("stream", [False, True])
async def test_a_record_keeps_its_tool_calls_handoffs_and_trace(
    agenthost_client: Any, log: ToolLog, stream: bool, database: dict[str, str]
) -> None:
    registry = build_registry(log)
    orders = registry.get("orders").agent
    registry.register(Agent(name="desk", instructions="Route the user.", handoffs=[orders]))
    async with agenthost_client(registry, **database) as (client, _):
        response = await client.post(
            "/v1/agents/desk/runs",
            json={"input": "[[tool:transfer_to_orders {}]] Where is order A-17?", "stream": stream},
        )
        assert response.status_code == 200, response.text
        run_id = response.headers.get("x-run-id") or response.json()["run_id"]
        record = (await client.get(f"/v1/runs/{run_id}")).json()
    assert record["status"] == "succeeded" and record["last_agent"] == "orders"
    steps = [{k: v for k, v in step.items() if v is not None} for step in record["steps"]]
    at = [step.pop("at_ms") for step in steps]
    assert steps == [
        {"type": "handoff", "from_agent": "desk", "to_agent": "orders"},
        {"type": "tool_called", "agent": "orders", "tool": "lookup_order", "call_id": ANY},
    ]
    assert 0 < at[0] <= at[1] <= record["duration_ms"]
    assert record["trace_id"] == response.headers["x-trace-id"]


async def test_a_record_without_tools_has_no_steps(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log), tracing_enabled=False) as (client, _):
        response = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        record = (await client.get(f"/v1/runs/{response.json()['run_id']}")).json()
    assert record["steps"] == [] and record["trace_id"] is None
