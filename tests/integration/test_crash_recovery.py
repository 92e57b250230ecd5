"""Background runs survive ``kill -9`` of the process executing them.

Each run calls the model, a slow tool (3 s), then the model again. The process executing the
runs is killed while every run is inside the tool. Every run must then complete exactly once,
elsewhere (PostgreSQL, two workers) or after a restart (SQLite, the embedded server), and:
no model call that had completed is made again (the mock LLM answers each call in full once),
and no tool call that had completed is made again (only the ones the crash interrupted).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, agenthost_command, agenthost_env, wait_ready
from tests.waiting import eventually

pytestmark = pytest.mark.integration

FAST = {
    "agents": "tests.jobs.crash_agents:registry",
    "background_runs": "true",
    "dev_mode": "true",
    "access_log": "false",
    "log_level": "WARNING",
    "queue_poll_s": 0.05,
    "cancel_poll_s": 0.1,
    "heartbeat_s": 0.5,
    "executor_dead_after_s": 3,
}


def _question(index: int) -> str:
    return f"Where is order job{index} shipping status?"


async def _queue_all(client: httpx2.AsyncClient, count: int) -> list[str]:
    async def queue(index: int) -> str:
        response = await client.post(
            "/v1/agents/orders/runs", json={"input": _question(index), "background": True}
        )
        assert response.status_code == 202, response.text
        run_id: str = response.json()["run_id"]
        return run_id

    return list(await asyncio.gather(*(queue(i) for i in range(count))))


def _tool_lines(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines()) if log.exists() else Counter()


async def _all_in_tool(log: Path, count: int) -> None:
    async def inside() -> bool:
        lines = _tool_lines(log)
        started = sum(n for line, n in lines.items() if line.startswith("start"))
        done = sum(n for line, n in lines.items() if line.startswith("done"))
        return started == count and done == 0

    await eventually(inside, timeout_s=30)


async def _all_finished(client: httpx2.AsyncClient, run_ids: list[str]) -> list[dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}

    async def finished() -> bool:
        response = await client.get("/v1/runs", params={"limit": 200})
        assert response.status_code == 200, response.text
        records.update((r["run_id"], r) for r in response.json()["runs"])
        return all(
            records.get(run_id, {}).get("status") in ("succeeded", "failed", "cancelled")
            for run_id in run_ids
        )

    await eventually(finished, timeout_s=60)
    return [records[run_id] for run_id in run_ids]


def _assert_exactly_once(
    records: list[dict[str, Any]], mock: MockLLMServer, log: Path, count: int
) -> None:
    assert [r["status"] for r in records] == ["succeeded"] * count, records
    for index, record in enumerate(records):
        assert record["output"] == f"Result: order {_question(index)} shipped"
        assert record["usage"]["requests"] == 2
    calls = mock.stats()["completed_calls"]
    assert len(calls) == 2 * count, calls  # a first and a second call per run
    assert set(calls.values()) == {1}, "a completed model call was made again"
    done = Counter(line for line in _tool_lines(log) if line.startswith("done"))
    assert len(done) == count and set(done.values()) == {1}, "a completed tool call ran again"


async def test_runs_of_a_killed_worker_complete_once_on_the_other(
    crash_servers: Servers, mock_llm: MockLLMServer, migrated_postgres: str, tmp_path: Path
) -> None:
    count = 30
    shared = {**FAST, "database_url": migrated_postgres, "worker_concurrency": count // 2}
    api, url = crash_servers.start(execute_background_runs="false", **shared)
    first = crash_servers.worker("worker-a", **shared)
    second = crash_servers.worker("worker-b", **shared)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, api)
        run_ids = await _queue_all(client, count)
        await _all_in_tool(tmp_path / "tools.log", count)
        first.send_signal(signal.SIGKILL)
        first.wait()
        records = await _all_finished(client, run_ids)
    assert second.poll() is None, "the surviving worker stopped"
    _assert_exactly_once(records, mock_llm, tmp_path / "tools.log", count)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0


async def test_runs_of_a_killed_embedded_server_complete_once_after_restart(
    crash_servers: Servers, mock_llm: MockLLMServer, tmp_path: Path
) -> None:
    count = 10
    settings = {**FAST, "database_url": f"sqlite:///{tmp_path / 'agenthost.db'}"}
    migrated = agenthost_command(agenthost_env(mock_llm, **settings), "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    server, url = crash_servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, server)
        run_ids = await _queue_all(client, count)
        await _all_in_tool(tmp_path / "tools.log", count)
        server.send_signal(signal.SIGKILL)
        server.wait()
    restarted, url = crash_servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, restarted)
        records = await _all_finished(client, run_ids)
    _assert_exactly_once(records, mock_llm, tmp_path / "tools.log", count)


async def test_cancel_reaches_a_run_in_another_process_within_a_second(
    crash_servers: Servers, migrated_postgres: str, tmp_path: Path
) -> None:
    shared = {**FAST, "database_url": migrated_postgres}
    api, url = crash_servers.start(execute_background_runs="false", **shared)
    crash_servers.worker("worker-c", **shared)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, api)
        [run_id] = await _queue_all(client, 1)
        await _all_in_tool(tmp_path / "tools.log", 1)
        response = await client.post(f"/v1/runs/{run_id}/cancel")
        assert response.json()["status"] == "running"

        async def cancelled() -> bool:
            record = (await client.get(f"/v1/runs/{run_id}")).json()
            return bool(record["status"] == "cancelled")

        await eventually(cancelled, timeout_s=1.0)
    assert not any(line.startswith("done") for line in _tool_lines(tmp_path / "tools.log"))


async def test_a_stopped_worker_leaves_its_unfinished_runs_to_another(
    crash_servers: Servers, mock_llm: MockLLMServer, migrated_postgres: str, tmp_path: Path
) -> None:
    count = 5
    shared = {**FAST, "database_url": migrated_postgres}
    api, url = crash_servers.start(execute_background_runs="false", **shared)
    first = crash_servers.worker("worker-d", grace_s=0.5, **shared)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, api)
        run_ids = await _queue_all(client, count)
        await _all_in_tool(tmp_path / "tools.log", count)
        crash_servers.worker("worker-e", **shared)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        records = await _all_finished(client, run_ids)
    _assert_exactly_once(records, mock_llm, tmp_path / "tools.log", count)
