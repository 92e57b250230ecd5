"""Fault injection: each kind surfaces as the right openai exception; queue, rate, markers."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx2
import openai
import pytest

from agenthost.testing.mock_llm import MockLLMConfig, MockLLMServer

WaitForStats = Callable[[Callable[[dict[str, Any]], bool]], Awaitable[dict[str, Any]]]


async def chat(client: openai.AsyncOpenAI, text: str = "hello") -> str | None:
    completion = await client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content


async def test_429_carries_retry_after_and_openai_error_body(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults({"kind": "429", "retry_after": 2})
    with pytest.raises(openai.RateLimitError) as caught:
        await chat(client)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    assert mock_llm.stats()["faults"] == {"429": 1}


@pytest.mark.parametrize("kind", ["500", "503"])
async def test_server_errors(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer, kind: str
) -> None:
    mock_llm.queue_faults(kind)
    with pytest.raises(openai.InternalServerError) as caught:
        await chat(client)
    assert caught.value.status_code == int(kind)
    assert caught.value.type == "server_error"
    assert mock_llm.stats()["per_status"] == {kind: 1}


async def test_drop_is_a_connection_error(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("drop", "drop")
    with pytest.raises(openai.APIConnectionError) as caught:
        await chat(client)
    assert not isinstance(caught.value, openai.APITimeoutError)
    with pytest.raises(openai.APIConnectionError):
        stream = await client.responses.create(model="mock-gpt", input="hi", stream=True)
        async for _ in stream:
            pass
    assert await chat(client) == "Mock reply: hello"


async def test_malformed_json_and_sse(client: openai.AsyncOpenAI, mock_llm: MockLLMServer) -> None:
    mock_llm.queue_faults({"kind": "malformed", "times": 2})
    with pytest.raises(ValueError, match="Expecting"):
        await chat(client)
    with pytest.raises(ValueError, match="Expecting"):
        stream = await client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for _ in stream:
            pass


async def test_hang_times_out_and_the_disconnect_is_recorded(
    mock_llm: MockLLMServer, wait_for_stats: WaitForStats
) -> None:
    mock_llm.queue_faults("hang")
    async with openai.AsyncOpenAI(
        base_url=mock_llm.base_url, api_key="test", max_retries=0, timeout=0.3
    ) as short:
        with pytest.raises(openai.APITimeoutError):
            await chat(short)
    stats = await wait_for_stats(lambda s: s["disconnects"] >= 1 and s["in_flight"] == 0)
    assert stats["disconnects"] == 1
    assert stats["faults"] == {"hang": 1}


async def test_disconnect_mid_stream_is_recorded(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer, wait_for_stats: WaitForStats
) -> None:
    mock_llm.set_latency(chunk_delay_ms=200)
    stream = await client.responses.create(model="mock-gpt", input="a b c d e f g", stream=True)
    seen: list[str] = []
    async for event in stream:
        seen.append(event.type)
        if len(seen) == 2:
            break
    await stream.close()
    assert seen == ["response.created", "response.in_progress"]
    stats = await wait_for_stats(lambda s: s["disconnects"] >= 1 and s["in_flight"] == 0)
    assert stats["disconnects"] == 1


async def test_queue_is_consumed_in_order(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    queued = mock_llm.queue_faults({"kind": "429", "retry_after": 1}, "500", {"kind": "503"})
    assert queued["pending"] == 3
    with pytest.raises(openai.RateLimitError):
        await chat(client)
    with pytest.raises(openai.InternalServerError) as first:
        await chat(client)
    with pytest.raises(openai.InternalServerError) as second:
        await chat(client)
    assert (first.value.status_code, second.value.status_code) == (500, 503)
    assert await chat(client) == "Mock reply: hello"
    stats = mock_llm.stats()
    assert stats["faults"] == {"429": 1, "500": 1, "503": 1}
    assert stats["total_requests"] == 4
    assert stats["queued_faults"] == 0


async def test_markers_fault_a_single_request(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        await chat(client, "hi [[fault:429 retry_after=3]]")
    assert caught.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.InternalServerError):
        await client.responses.create(model="mock-gpt", input="hi [[fault:503]]")
    assert await chat(client, "fine") == "Mock reply: fine"


async def test_latency_from_admin_and_sleep_marker(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    mock_llm.set_latency(200)
    started = time.monotonic()
    await chat(client)
    assert time.monotonic() - started >= 0.2
    mock_llm.reset()
    started = time.monotonic()
    await chat(client, "slow [[sleep:150]]")
    assert time.monotonic() - started >= 0.15


def test_reset_clears_queue_and_counters(mock_llm: MockLLMServer) -> None:
    mock_llm.queue_faults("500")
    stats = mock_llm.reset()
    assert stats["queued_faults"] == 0
    assert stats["total_requests"] == 0


def test_admin_rejects_unknown_fault_kinds(mock_llm: MockLLMServer) -> None:
    with pytest.raises(httpx2.HTTPStatusError) as caught:
        mock_llm.queue_faults("418")
    assert caught.value.response.status_code == 400
    assert "unknown fault kind" in caught.value.response.json()["error"]["message"]


SEED = 1234
KINDS = ("500", "503")


@pytest.fixture(scope="module")
def flaky_server() -> Iterator[MockLLMServer]:
    config = MockLLMConfig(fault_rate=0.5, fault_kinds=KINDS, seed=SEED)
    with MockLLMServer(config) as server:
        yield server


def expected_outcomes(count: int) -> list[str]:
    rng = random.Random(SEED)
    return [rng.choice(KINDS) if rng.random() < 0.5 else "ok" for _ in range(count)]


async def outcomes(server: MockLLMServer, count: int) -> list[str]:
    seen: list[str] = []
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="t", max_retries=0) as client:
        for _ in range(count):
            try:
                await chat(client)
                seen.append("ok")
            except openai.InternalServerError as exc:
                seen.append(str(exc.status_code))
    return seen


async def test_rate_based_faults_follow_the_seed(flaky_server: MockLLMServer) -> None:
    flaky_server.reset()
    first = await outcomes(flaky_server, 16)
    assert first == expected_outcomes(16)
    assert {"ok", "500", "503"} <= set(first)
    flaky_server.reset()
    assert await outcomes(flaky_server, 16) == first
