"""Model-call retries, the circuit breaker and the deadline, over real HTTP to the mock LLM."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agenthost.models.breaker import BreakerState
from agenthost.settings import DeploymentSettings
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.conftest import client_for
from tests.waiting import eventually


@pytest.fixture
def log() -> ToolLog:
    return ToolLog()


def model_calls(mock: MockLLMServer) -> int:
    """Model requests the mock received (chat completions and responses)."""
    per_endpoint = mock.stats()["per_endpoint"]
    return sum(n for endpoint, n in per_endpoint.items() if endpoint.startswith("POST /v1/"))


async def test_429_with_retry_after_is_retried_after_it(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    mock_llm.queue_faults({"kind": "429", "retry_after": 1})
    async with agenthost_client(build_registry(log)) as (client, _):
        started = time.monotonic()
        response = await client.post("/v1/agents/echo/runs", json={"input": "hello"})
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["output"] == "Mock reply: hello"
    assert elapsed >= 1.0
    assert model_calls(mock_llm) == 2
    assert mock_llm.stats()["faults"]["429"] == 1


async def test_retry_repeats_the_model_call_not_the_tool(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    # The tool itself arranges for the model call after it to fail once.
    log.after_lookup.append(lambda: mock_llm.queue_faults("503"))
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.post("/v1/agents/orders/runs", json={"input": "order C-3?"})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == "Result: order C-3 shipped"
    assert log.lookups == 1
    assert model_calls(mock_llm) == 3


@pytest.mark.parametrize("fault", ["malformed", "drop", "500"])
async def test_transient_upstream_faults_are_retried(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog, fault: str
) -> None:
    mock_llm.queue_faults(fault)
    async with agenthost_client(build_registry(log)) as (client, _):
        plain = await client.post("/v1/agents/echo/runs", json={"input": "again"})
        mock_llm.queue_faults(fault)
        streamed = await client.post(
            "/v1/agents/echo/runs", json={"input": "again", "stream": True}
        )
    assert plain.status_code == 200, plain.text
    assert plain.json()["output"] == "Mock reply: again"
    assert "event: final" in streamed.text and "event: error" not in streamed.text
    assert model_calls(mock_llm) == 4


async def test_exhausted_retries_surface_as_upstream_unavailable(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    mock_llm.queue_faults({"kind": "500", "times": 3})
    async with agenthost_client(build_registry(log), retry_max_attempts=3) as (client, _):
        response = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "UPSTREAM_UNAVAILABLE" and problem["retriable"] is True
    assert response.headers["content-type"] == "application/problem+json"
    assert model_calls(mock_llm) == 3


async def test_breaker_opens_fails_fast_half_opens_and_closes(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    mock_llm.queue_faults({"kind": "503", "times": 2})
    settings = {
        "retry_max_attempts": 1,
        "breaker_failure_threshold": 2,
        "breaker_cooldown_s": 0.5,
    }
    async with agenthost_client(build_registry(log), **settings) as (client, app):
        breaker = app.state.container.provider.breakers["mock"]
        for _ in range(2):
            failed = await client.post("/v1/agents/echo/runs", json={"input": "x"})
            assert failed.json()["code"] == "UPSTREAM_UNAVAILABLE"
        assert breaker.state is BreakerState.OPEN

        fast = await client.post("/v1/agents/echo/runs", json={"input": "x"})
        assert fast.status_code == 503
        assert fast.json()["code"] == "CIRCUIT_OPEN"
        assert int(fast.headers["retry-after"]) >= 1
        assert model_calls(mock_llm) == 2  # failed fast: no upstream call

        await eventually(lambda: breaker.state is BreakerState.HALF_OPEN)
        probe = await client.post("/v1/agents/echo/runs", json={"input": "probe"})
        assert probe.status_code == 200, probe.text
        assert breaker.state is BreakerState.CLOSED


async def test_hanging_model_is_cancelled_at_the_deadline(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    mock_llm.queue_faults("hang")
    async with agenthost_client(build_registry(log)) as (client, app):
        started = time.monotonic()
        response = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        elapsed = time.monotonic() - started
        assert app.state.lifecycle.in_flight == 0
    assert response.status_code == 504
    assert response.json()["code"] == "RUN_TIMEOUT"
    assert 2.0 <= elapsed < 5.0  # the echo agent's 2 s deadline
    await eventually(lambda: mock_llm.stats()["disconnects"] == 1)


async def test_deadline_cancels_a_running_tool(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    async with agenthost_client(build_registry(log, slow_timeout_s=0.5)) as (client, _):
        response = await client.post(
            "/v1/agents/reports/runs", json={"input": "a slow report on Mars"}
        )
    assert response.json()["code"] == "RUN_TIMEOUT"
    assert log.slow_started.is_set() and log.slow_cancelled.is_set()


async def test_streamed_run_past_its_deadline_ends_with_an_error_event(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    async with agenthost_client(build_registry(log, slow_timeout_s=0.5)) as (client, app):
        response = await client.post(
            "/v1/agents/reports/runs", json={"input": "a slow report", "stream": True}
        )
        assert app.state.lifecycle.in_flight == 0
    last = response.text.strip().split("\n\n")[-1]
    assert "event: error" in last and '"code":"RUN_TIMEOUT"' in last
    assert log.slow_cancelled.is_set()


async def test_hanging_deployment_is_abandoned_and_failed_over(
    agenthost_client: Any, mock_llm: MockLLMServer, log: ToolLog
) -> None:
    deployments = [
        DeploymentSettings(
            name=name,
            model="m",
            serves=["*"],
            base_url=mock_llm.base_url,
            call_timeout_s=0.5,
            client=client_for(mock_llm),
        )
        for name in ("first", "second")
    ]
    mock_llm.queue_faults("hang")
    settings = {"deployments": deployments, "breaker_failure_threshold": 1}
    async with agenthost_client(build_registry(log), **settings) as (client, app):
        response = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        breakers = app.state.container.provider.breakers
        assert breakers["first"].state is BreakerState.OPEN
        assert breakers["second"].state is BreakerState.CLOSED
    assert response.status_code == 200, response.text
    assert model_calls(mock_llm) == 2
    await eventually(lambda: mock_llm.stats()["disconnects"] == 1)
