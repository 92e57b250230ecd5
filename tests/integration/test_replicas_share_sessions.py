"""Two ``agenthost serve`` replicas on one PostgreSQL share each session's lease.

20 concurrent runs of one session, spread over both replicas: with ``on_busy: reject`` exactly
one runs and 19 are refused with 409 SESSION_BUSY; with ``enqueue`` all 20 run, one at a time,
each sent the whole conversation of the runs before it. A run on one replica interrupted by a
run on the other is cancelled, and nothing of its turn is kept.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import Any

import httpx2
import pytest

from agenthost.testing.mock_llm.markers import strip_markers
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, wait_ready
from tests.waiting import eventually

pytestmark = pytest.mark.integration

RUNS = 20


async def _run(client: httpx2.AsyncClient, session_id: str, text: str, **extra: Any) -> Any:
    body = {"input": text, "session_id": session_id, **extra}
    return await client.post("/v1/agents/echo/runs", json=body)


async def _history(client: httpx2.AsyncClient, session_id: str) -> list[tuple[str, str]]:
    response = await client.get(f"/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    pairs = []
    for item in response.json()["items"]:
        content = item["content"]
        if isinstance(content, list):
            content = "".join(part["text"] for part in content)
        pairs.append((item["role"], strip_markers(content)))
    return pairs


def _items_seen(mock: MockLLMServer) -> dict[str, int]:
    return {
        strip_markers(text): int(items)
        for text, _, items in (c.rpartition("#") for c in mock.stats()["completed_calls"])
    }


async def _reject(clients: list[httpx2.AsyncClient], mock: MockLLMServer) -> None:
    responses = await asyncio.gather(
        *(_run(clients[i % 2], "shared-r", f"reject {i} [[sleep:3000]]") for i in range(RUNS))
    )
    outcomes = Counter(
        "ok" if r.status_code == 200 else f"{r.status_code} {r.json()['code']}" for r in responses
    )
    assert outcomes == {"ok": 1, "409 SESSION_BUSY": RUNS - 1}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in responses if r.status_code == 409)
    assert len(mock.stats()["completed_calls"]) == 1
    [winner] = [r.json()["output"] for r in responses if r.status_code == 200]
    assert [text for _, text in await _history(clients[1], "shared-r")] == [
        winner.removeprefix("Mock reply: "),
        winner,
    ]


async def _enqueue(clients: list[httpx2.AsyncClient], mock: MockLLMServer) -> None:
    mock.reset()
    responses = await asyncio.gather(
        *(
            _run(clients[i % 2], "shared-e", f"enqueue {i} [[sleep:50]]", on_busy="enqueue")
            for i in range(RUNS)
        )
    )
    assert [r.status_code for r in responses] == [200] * RUNS, [r.text for r in responses]
    history = await _history(clients[0], "shared-e")
    assert len(history) == 2 * RUNS
    seen = _items_seen(mock)
    base = min(seen.values())
    for position in range(RUNS):  # one turn after the other, never interleaved
        (user_role, user), (reply_role, reply) = history[2 * position : 2 * position + 2]
        assert (user_role, reply_role) == ("user", "assistant")
        assert reply == f"Mock reply: {user}"
        assert seen[user] == base + 2 * position  # it was sent every turn before its own
    assert sorted(user for role, user in history if role == "user") == sorted(
        f"enqueue {i}" for i in range(RUNS)
    )


async def _interrupt(clients: list[httpx2.AsyncClient], mock: MockLLMServer) -> None:
    mock.reset()
    slow = asyncio.create_task(_run(clients[0], "shared-i", "slow [[sleep:20000]]"))
    await eventually(lambda: mock.stats()["in_flight"] == 1, timeout_s=10)
    newer = await _run(clients[1], "shared-i", "newer", on_busy="interrupt")
    interrupted = await slow
    assert newer.status_code == 200, newer.text
    assert interrupted.status_code == 409 and interrupted.json()["code"] == "RUN_CANCELLED"
    record = (await clients[1].get(f"/v1/runs/{interrupted.json()['run_id']}")).json()
    assert record["status"] == "cancelled"
    assert await _history(clients[0], "shared-i") == [
        ("user", "newer"),
        ("assistant", "Mock reply: newer"),
    ]


async def test_two_replicas_share_each_sessions_lease(
    servers: Servers, mock_llm: MockLLMServer, migrated_postgres: str
) -> None:
    shared = {
        "database_url": migrated_postgres,
        "session_poll_s": 0.05,
        "access_log": "false",
        "log_level": "WARNING",
    }
    replicas = [servers.start(**shared) for _ in range(2)]
    clients = [
        httpx2.AsyncClient(base_url=url, timeout=60, limits=httpx2.Limits(max_connections=RUNS))
        for _, url in replicas
    ]
    try:
        for client, (process, _) in zip(clients, replicas, strict=True):
            await wait_ready(client, process)
        await _reject(clients, mock_llm)
        await _enqueue(clients, mock_llm)
        await _interrupt(clients, mock_llm)
    finally:
        for client in clients:
            await client.aclose()
    for process, _ in replicas:
        process.send_signal(signal.SIGTERM)
    for process, _ in replicas:
        assert await asyncio.to_thread(process.wait, 30) == 0
