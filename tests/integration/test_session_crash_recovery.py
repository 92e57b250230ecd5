"""A background run of a session survives ``kill -9`` of its server without writing its turn
twice, and resumes with the history it started with.

The run calls the model, a slow tool, then the model again; the server is killed while the run
is in the tool. While it is down, the session's stored history is changed behind its back: the
resumed run must still see the history it read when it started (its read is a durable step),
so its second model call carries the same conversation it would have without the crash. A
second run, queued behind it on the same session, runs after it and sees its turn.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.integration.test_crash_recovery import FAST, _tool_lines
from tests.processes import Servers, agenthost_command, agenthost_env, wait_ready
from tests.waiting import eventually

pytestmark = pytest.mark.integration

SETTINGS = {**FAST, "session_poll_s": 0.05}
QUESTION = "Where is order job1 shipping status?"


async def _finished(client: httpx2.AsyncClient, run_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {}

    async def done() -> bool:
        record.update((await client.get(f"/v1/runs/{run_id}")).json())
        return record["status"] in ("succeeded", "failed", "cancelled")

    await eventually(done, timeout_s=60)
    return record


async def _queue(client: httpx2.AsyncClient, text: str, **extra: Any) -> str:
    body = {"input": text, "session_id": "trip", "background": True, **extra}
    response = await client.post("/v1/agents/orders/runs", json=body)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


async def test_a_resumed_background_run_writes_its_turn_once_with_its_first_history(
    crash_servers: Servers, mock_llm: MockLLMServer, tmp_path: Path
) -> None:
    database = tmp_path / "agenthost.db"
    settings = {**SETTINGS, "database_url": f"sqlite:///{database}"}
    migrated = agenthost_command(agenthost_env(mock_llm, **settings), "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    server, url = crash_servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, server)
        seeded = await client.post(
            "/v1/agents/orders/runs", json={"input": "hello", "session_id": "trip"}
        )
        assert seeded.status_code == 200, seeded.text
        first = await _queue(client, QUESTION)
        second = await _queue(client, "thanks", on_busy="enqueue")
        await eventually(lambda: _tool_lines(tmp_path / "tools.log")[f"start {QUESTION}"] == 1)
    server.send_signal(signal.SIGKILL)
    server.wait()
    with sqlite3.connect(database) as db:  # the stored history changes while it is down
        db.execute("DELETE FROM session_items")
    restarted, url = crash_servers.start(**settings)
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, restarted)
        records = [await _finished(client, run_id) for run_id in (first, second)]
        items = (await client.get("/v1/sessions/trip")).json()["items"]
    assert [r["status"] for r in records] == ["succeeded"] * 2, records
    calls = mock_llm.stats()["completed_calls"]
    assert set(calls.values()) == {1}, "a completed model call was made again"
    # Both model calls of the resumed run were sent "hello"'s exchange (2 items), the question,
    # and then the tool call and its output: the history it read before the crash.
    assert {k for k in calls if k.startswith(QUESTION)} == {f"{QUESTION}#3", f"{QUESTION}#5"}
    assert _tool_lines(tmp_path / "tools.log")[f"done {QUESTION}"] == 1
    kinds = [item.get("role") or item["type"] for item in items]
    # Its turn once (written after the history was wiped), then the queued run's turn.
    assert kinds == [
        "user",
        "function_call",
        "function_call_output",
        "assistant",
        "user",
        "assistant",
    ]
    assert calls.get("thanks#5") == 1  # the queued run saw the whole resumed turn
