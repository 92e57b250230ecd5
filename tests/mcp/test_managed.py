"""A managed MCP server against the real counting server: shared connection, drops, reconnects."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthost.errors import MCPServerUnavailable
from agenthost.mcp.managed import ManagedMCPServer, State
from agenthost.settings import Settings
from agenthost.telemetry.metrics import Metrics
from agenthost.testing.mcp_counter import recorded_calls
from tests.mcp.counter import HttpCounter, stdio_server
from tests.waiting import eventually

FAST = Settings(mcp_ping_interval_s=0.1, mcp_reconnect_base_s=0.05, mcp_reconnect_max_s=0.2)


def _text(result: object) -> str:
    return str(result.content[0].text)  # type: ignore[attr-defined]


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics._registry.get_sample_value(name, labels)  # type: ignore[union-attr]
    return value or 0.0


@pytest.fixture
async def http_counter(tmp_path: Path) -> AsyncIterator[HttpCounter]:
    counter = HttpCounter(tmp_path / "calls.jsonl")
    await counter.start()
    yield counter
    counter.kill()


async def test_concurrent_calls_share_one_stdio_connection(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    metrics = Metrics()
    server = ManagedMCPServer(stdio_server(calls), required=True, settings=FAST, metrics=metrics)
    await server.start()
    try:
        assert server.state is State.UP
        assert {tool.name for tool in await server.list_tools()} == {"count_visitors", "slow_count"}
        results = await asyncio.gather(
            *(server.call_tool("slow_count", {"door": "a", "delay_ms": 200}) for _ in range(10))
        )
    finally:
        await server.aclose()
    totals = sorted(int(_text(r).split(": ")[1].split()[0]) for r in results)
    assert totals == list(range(1, 11))  # ten calls, each answered with its own count
    assert len({call["pid"] for call in recorded_calls(calls)}) == 1  # over one connection
    ok = _sample(
        metrics, "agenthost_mcp_calls_total", server="counter", tool="slow_count", outcome="ok"
    )
    assert ok == 10
    assert _sample(metrics, "agenthost_mcp_call_duration_seconds_count", server="counter") == 10
    assert server.state is State.CLOSED
    assert _sample(metrics, "agenthost_mcp_server_up", server="counter") == 0
    (pid,) = {call["pid"] for call in recorded_calls(calls)}
    with pytest.raises(ProcessLookupError):  # closing ended the server's process
        os.kill(pid, 0)


async def test_a_killed_server_fails_calls_fast_and_is_reconnected(
    http_counter: HttpCounter,
) -> None:
    metrics = Metrics()
    server = ManagedMCPServer(http_counter.client(), required=True, settings=FAST, metrics=metrics)
    await server.start()
    try:
        await server.list_tools()
        assert "1 visitors" in _text(await server.call_tool("count_visitors", {"door": "a"}))
        http_counter.kill()
        with pytest.raises(MCPServerUnavailable, match="'counter' is unavailable"):
            await server.call_tool("count_visitors", {"door": "a"})
        assert server.state is State.DOWN
        with pytest.raises(MCPServerUnavailable):  # at once, while it is down
            await server.call_tool("count_visitors", {"door": "a"})
        with pytest.raises(MCPServerUnavailable):  # a required server's tools cannot be listed
            await server.list_tools()
        await http_counter.start()
        await eventually(lambda: server.state is State.UP, timeout_s=15)
        assert "1 visitors" in _text(await server.call_tool("count_visitors", {"door": "a"}))
    finally:
        await server.aclose()

    def calls(outcome: str) -> float:
        return _sample(
            metrics,
            "agenthost_mcp_calls_total",
            server="counter",
            tool="count_visitors",
            outcome=outcome,
        )

    assert (calls("ok"), calls("unavailable")) == (2, 2)
    assert _sample(metrics, "agenthost_mcp_connects_total", server="counter", outcome="ok") == 2


async def test_an_optional_server_that_is_down_leaves_its_tools_out(tmp_path: Path) -> None:
    nobody = HttpCounter(tmp_path / "calls.jsonl")  # never started: nothing listens
    server = ManagedMCPServer(nobody.client(), required=False, settings=FAST, metrics=Metrics())
    await server.start()
    try:
        assert server.state is State.DOWN and server.last_error
        assert await server.list_tools() == []
        with pytest.raises(MCPServerUnavailable):
            await server.call_tool("count_visitors", {"door": "a"})
        await nobody.start()  # it comes up later: reconnected in the background
        await eventually(lambda: server.state is State.UP, timeout_s=15)
        assert len(await server.list_tools()) == 2
    finally:
        await server.aclose()
        nobody.kill()
