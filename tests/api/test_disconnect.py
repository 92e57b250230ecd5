"""A caller that goes away stops its run: no tokens spent for nobody, no slot held."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from starlette.requests import Request
from starlette.types import Message

from agenthost.api.disconnect import unless_disconnected
from agenthost.errors import RunCancelled
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.waiting import eventually


@pytest.mark.parametrize("stream", [False, True])
async def test_disconnect_cancels_the_run_and_its_model_call(
    agenthost_client: Any, mock_llm: MockLLMServer, stream: bool
) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, app):
        lifecycle = app.state.lifecycle
        with pytest.raises(httpx2.ReadTimeout):
            await client.post(
                "/v1/agents/echo/runs",
                json={"input": "[[sleep:5000]] are you there?", "stream": stream},
                timeout=httpx2.Timeout(30, read=0.5) if not stream else httpx2.Timeout(0.5),
            )
        # Gone well before the model would answer (5 s) or the echo agent's deadline (2 s).
        await eventually(lambda: lifecycle.in_flight == 0, timeout_s=1.2)
        await eventually(lambda: mock_llm.stats()["disconnects"] == 1, timeout_s=1.2)


def _request(disconnect: asyncio.Event) -> Request:
    async def receive() -> Message:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


async def test_a_disconnect_cancels_the_work_in_the_requests_own_task() -> None:
    disconnect, started = asyncio.Event(), asyncio.Event()
    seen: list[asyncio.Task[Any] | None] = []

    async def work() -> str:
        seen.append(asyncio.current_task())
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append(None)
            raise
        return "never"

    async def request_task() -> str:
        async def disconnect_once_started() -> None:
            await started.wait()
            disconnect.set()

        asyncio.get_running_loop().create_task(disconnect_once_started())
        with pytest.raises(RunCancelled):
            await unless_disconnected(_request(disconnect), work())
        current = asyncio.current_task()
        assert current is not None and current.cancelling() == 0  # usable afterwards
        await asyncio.sleep(0)
        return "answered"

    task = asyncio.create_task(request_task())
    assert await task == "answered"
    assert seen == [task, None]


async def test_finished_work_returns_its_result_and_stops_the_watcher() -> None:
    async def work() -> int:
        return 42

    before = asyncio.all_tasks()
    assert await unless_disconnected(_request(asyncio.Event()), work()) == 42
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before


async def test_a_cancellation_from_elsewhere_is_not_a_disconnect() -> None:
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(unless_disconnected(_request(asyncio.Event()), work()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
