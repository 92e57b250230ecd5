"""The metrics are counted where things happen: model layer, limits, quotas, runs in flight."""

from __future__ import annotations

from typing import Any

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key
from tests.telemetry.scrape import value

from agenthost.telemetry.metrics import Metrics
from agenthost.testing.mock_llm.server import MockLLMServer


def metrics_of(app: Any) -> Metrics:
    metrics: Metrics = app.state.container.metrics
    return metrics


async def test_a_retried_model_call_counts_its_error_and_the_retry(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("503")
    async with agenthost_client(build_registry(ToolLog())) as (client, app):
        response = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        metrics = metrics_of(app)
        assert response.status_code == 200, response.text
        errors = value(
            metrics,
            "agenthost_model_call_errors_total",
            deployment="mock",
            code="UPSTREAM_UNAVAILABLE",
        )
        retries = value(
            metrics,
            "agenthost_model_retries_total",
            model="gpt-4o-mini",
            code="UPSTREAM_UNAVAILABLE",
        )
        calls = {
            outcome: value(
                metrics,
                "agenthost_model_calls_total",
                deployment="mock",
                model="mock-gpt",
                outcome=outcome,
            )
            for outcome in ("ok", "error")
        }
        timed = value(metrics, "agenthost_model_call_duration_seconds_count", deployment="mock")
    assert (errors, retries) == (1, 1)
    assert calls == {"ok": 1, "error": 1}
    assert timed == 2


async def test_the_breaker_gauge_follows_the_circuit(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("503", "503")
    overrides = {"breaker_failure_threshold": 1, "retry_max_attempts": 1}
    async with agenthost_client(build_registry(ToolLog()), **overrides) as (client, app):
        before = value(metrics_of(app), "agenthost_breaker_state", deployment="mock")
        failed = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        after = value(metrics_of(app), "agenthost_breaker_state", deployment="mock")
        run_errors = value(
            metrics_of(app), "agenthost_run_errors_total", agent="echo", code="UPSTREAM_UNAVAILABLE"
        )
    assert failed.status_code == 503
    assert (before, after) == (0, 2)
    assert run_errors == 1


async def test_refusals_are_counted_by_limit(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", runs_per_month=1, rate_limit="2/minute")
        statuses = [
            (
                await client.post("/v1/agents/echo/runs", json={"input": "x"}, headers=key.headers)
            ).status_code
            for _ in range(3)
        ]
        quota = value(
            metrics_of(app), "agenthost_quota_refusals_total", tenant="acme", quota="runs_per_month"
        )
        limited = value(metrics_of(app), "agenthost_rate_limit_refusals_total", scope="tenant")
        succeeded = value(
            metrics_of(app), "agenthost_runs_total", agent="echo", tenant="acme", status="succeeded"
        )
        in_flight = value(metrics_of(app), "agenthost_runs_in_flight")
    assert statuses == [200, 429, 429]
    assert (quota, limited, succeeded, in_flight) == (1, 1, 1, 0)


def test_remembered_children_still_count_per_label_set() -> None:
    metrics = Metrics()
    runs = metrics.runs
    for _ in range(2):
        runs.labels("echo", "acme", "succeeded").inc()
    runs.labels("echo", "acme", "failed").inc()
    runs.labels(agent="echo", tenant="acme", status="failed").inc()
    runs.labels("echo", "other", "succeeded").inc(5)
    metrics.run_duration.labels("echo", "succeeded").observe(0.2)
    metrics.run_duration.labels("echo", "failed").observe(0.3)
    metrics.breaker_state.labels("mock").set(2)
    metrics.breaker_state.labels("other").set(1)

    def count(**labels: str) -> float:
        return value(metrics, "agenthost_runs_total", **labels)

    assert runs.labels("echo", "acme", "failed") is runs.labels("echo", "acme", "failed")
    assert count(agent="echo", tenant="acme", status="succeeded") == 2
    assert count(agent="echo", tenant="acme", status="failed") == 2
    assert count(agent="echo", tenant="other", status="succeeded") == 5
    duration = "agenthost_run_duration_seconds_sum"
    assert value(metrics, duration, agent="echo", status="succeeded") == 0.2
    assert value(metrics, duration, agent="echo", status="failed") == 0.3
    assert value(metrics, "agenthost_breaker_state", deployment="mock") == 2
    assert value(metrics, "agenthost_breaker_state", deployment="other") == 1


def test_a_removed_child_counts_from_zero_again() -> None:
    metrics = Metrics()
    errors = metrics.run_errors
    errors.labels("echo", "RUN_TIMEOUT").inc(3)
    errors.remove("echo", "RUN_TIMEOUT")
    errors.labels("echo", "RUN_TIMEOUT").inc()
    assert value(metrics, "agenthost_run_errors_total", agent="echo", code="RUN_TIMEOUT") == 1
    errors.clear()
    errors.labels("echo", "RUN_TIMEOUT").inc(2)
    assert value(metrics, "agenthost_run_errors_total", agent="echo", code="RUN_TIMEOUT") == 2
