"""Fixtures for the mock LLM's own tests (``mock_llm`` itself comes from tests/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
import pytest

from agenthost.testing.mock_llm import MockLLMServer


@pytest.fixture
async def client(mock_llm: MockLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=mock_llm.base_url, api_key="test", max_retries=0
    ) as openai_client:
        yield openai_client


StatsCondition = Callable[[dict[str, Any]], bool]


@pytest.fixture
def wait_for_stats(
    mock_llm: MockLLMServer,
) -> Callable[[StatsCondition], Awaitable[dict[str, Any]]]:
    """Poll the server's stats until a condition holds (bounded by a deadline)."""

    async def wait(condition: StatsCondition, timeout_s: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            stats = mock_llm.stats()
            if condition(stats):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f"stats never satisfied the condition: {stats}")
            await asyncio.sleep(0.02)

    return wait
