"""``agenthost serve`` as a real process: graceful shutdown on SIGTERM, with 1 and 2 workers."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, wait_ready
from tests.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def serve(mock_llm: MockLLMServer) -> Iterator[object]:
    servers = Servers(mock_llm)
    yield servers.start
    servers.kill_all()


async def test_sigterm_lets_the_in_flight_run_finish(
    serve: object, mock_llm: MockLLMServer
) -> None:
    process, url = serve()  # type: ignore[operator]
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, process)
        run = asyncio.create_task(
            client.post("/v1/agents/echo/runs", json={"input": "slow one [[sleep:3000]]"})
        )
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        process.send_signal(signal.SIGTERM)

        async def draining() -> bool:
            return (await client.get("/ready")).status_code == 503

        await eventually(draining)
        refused = await client.post("/v1/agents/echo/runs", json={"input": "too late"})
        finished = await run
    assert refused.status_code == 503 and refused.json()["code"] == "SHUTTING_DOWN"
    assert finished.status_code == 200, finished.text
    assert finished.json()["output"].startswith("Mock reply: slow one")
    assert await asyncio.to_thread(process.wait, 15) == 0


async def test_two_workers_serve_and_stop_cleanly(serve: object) -> None:
    process, url = serve(workers=2)  # type: ignore[operator]
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, process)
        responses = await asyncio.gather(
            *(client.post("/v1/agents/echo/runs", json={"input": f"n{i}"}) for i in range(6))
        )
    assert [r.status_code for r in responses] == [200] * 6
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0


async def test_runs_past_the_grace_period_end_with_shutting_down(
    serve: object, mock_llm: MockLLMServer
) -> None:
    process, url = serve(grace_s=0.5)  # type: ignore[operator]
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, process)
        run = asyncio.create_task(
            client.post("/v1/agents/echo/runs", json={"input": "[[sleep:20000]] too slow"})
        )
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        process.send_signal(signal.SIGTERM)
        response = await run
    assert response.status_code == 503
    assert response.json()["code"] == "SHUTTING_DOWN"
    assert await asyncio.to_thread(process.wait, 15) == 0


async def test_group_signal_with_workers_still_drains(
    serve: object, mock_llm: MockLLMServer
) -> None:
    process, url = serve(workers=2)  # type: ignore[operator]
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, process)
        runs = [
            asyncio.create_task(
                client.post("/v1/agents/echo/runs", json={"input": f"[[sleep:2000]] r{i}"})
            )
            for i in range(4)
        ]
        await eventually(lambda: mock_llm.stats()["in_flight"] == 4)
        os.killpg(process.pid, signal.SIGTERM)  # as Ctrl-C or a service manager would
        responses = await asyncio.gather(*runs)
    assert [r.status_code for r in responses] == [200] * 4
    assert await asyncio.to_thread(process.wait, 30) == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


async def test_workers_stop_when_the_supervisor_is_killed(serve: object) -> None:
    process, url = serve(workers=2)  # type: ignore[operator]
    async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
        await wait_ready(client, process)
    workers = [pid for pid in _children(process.pid) if _running(pid)]
    assert len(workers) >= 2
    process.kill()
    process.wait(10)
    await eventually(lambda: not any(_running(pid) for pid in workers), timeout_s=15)
