"""A background run's completed MCP tool call is not made again when the run is resumed; a
server stopped by SIGTERM closes its MCP connection (the stdio server's process ends)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx2
import pytest

from agenthost.testing.mcp_counter import CALLS_ENV, recorded_calls
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, agenthost_command, agenthost_env, wait_ready
from tests.waiting import eventually

pytestmark = pytest.mark.integration

QUESTION = '[[tool:count_visitors {"door": "east"}]] [[sleep:2000]] Count the east door.'


async def test_a_resumed_run_does_not_call_its_mcp_tool_again(
    servers: Servers, mock_llm: MockLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv(CALLS_ENV, str(calls))
    settings = {
        "agents": "tests.jobs.mcp_agents:registry",
        "background_runs": "true",
        "database_url": f"sqlite:///{tmp_path / 'agenthost.db'}",
        "queue_poll_s": 0.05,
        "heartbeat_s": 0.5,
        "executor_dead_after_s": 3,
    }
    migrated = agenthost_command(agenthost_env(mock_llm, **settings), "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    server, url = servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, server)
        queued = await client.post(
            "/v1/agents/door/runs", json={"input": QUESTION, "background": True}
        )
        assert queued.status_code == 202, queued.text
        # The tool call is done and the second model call is in flight: kill the process.
        await eventually(lambda: bool(recorded_calls(calls)), timeout_s=30)
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1, timeout_s=30)
        server.send_signal(signal.SIGKILL)
        server.wait()
    restarted, url = servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, restarted)
        location = queued.json()["location"]

        async def finished() -> bool:
            status = (await client.get(location)).json()["status"]
            return status not in ("queued", "running")

        await eventually(finished, timeout_s=60)
        record = (await client.get(location)).json()
        started_calls = len(recorded_calls(calls, "start"))
        west = QUESTION.replace("east", "west")
        again = await client.post("/v1/agents/door/runs", json={"input": west})
    restarted.send_signal(signal.SIGTERM)  # drains, then closes the MCP server's connection
    assert await asyncio.to_thread(restarted.wait, 30) == 0
    assert record["status"] == "succeeded", record
    assert record["output"] == "Result: door east: 1 visitors"
    assert started_calls == 1, "the MCP tool was called again"
    assert set(mock_llm.stats()["completed_calls"].values()) == {1}
    assert again.json()["output"] == "Result: door west: 1 visitors"
    child = recorded_calls(calls)[-1]["pid"]
    with pytest.raises(ProcessLookupError):  # the MCP server's process ended with agenthost's
        os.kill(child, 0)
