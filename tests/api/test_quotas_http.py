"""Tenant quotas over real HTTP: runs per month, concurrent runs, tokens per run."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import run_rows, tenant_with_key


@pytest.fixture
def log() -> ToolLog:
    return ToolLog()


def next_month_utc() -> datetime:
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


async def test_the_monthly_quota_refuses_the_third_run(
    agenthost_client: Any, log: ToolLog, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(build_registry(log), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", runs_per_month=2)
        runs = [
            await client.post("/v1/agents/echo/runs", json={"input": f"n{i}"}, headers=key.headers)
            for i in range(2)
        ]
        refused = await client.post(
            "/v1/agents/echo/runs", json={"input": "n2"}, headers=key.headers
        )
        refused_stream = await client.post(
            "/v1/agents/echo/runs", json={"input": "n3", "stream": True}, headers=key.headers
        )
        usage = (await client.get("/v1/usage", headers=key.headers)).json()
        records = await run_rows(app, "acme")
    assert [r.status_code for r in runs] == [200, 200]
    for response in (refused, refused_stream):
        assert response.status_code == 429, response.text
        problem = response.json()
        assert problem["code"] == "QUOTA_EXCEEDED" and problem["retriable"] is True
        assert problem["quota"] == "runs_per_month" and problem["limit"] == 2
        assert datetime.fromisoformat(problem["resets_at"]) == next_month_utc()
        retry_after = int(response.headers["retry-after"])
        seconds_left = (next_month_utc() - datetime.now(UTC)).total_seconds()
        assert retry_after > 0 and abs(retry_after - seconds_left) < 60
        assert problem["retry_after"] == retry_after
    # Refused runs made no model call, left no record and did not count against the month.
    assert mock_llm.stats()["total_requests"] == 2
    assert [r.id for r in records] == [r.json()["run_id"] for r in runs]
    assert usage["quota"] == {
        "runs_per_month": 2,
        "runs_counted": 2,
        "resets_at": usage["quota"]["resets_at"],
    }
    assert datetime.fromisoformat(usage["quota"]["resets_at"]) == next_month_utc()


async def test_a_run_refused_for_concurrency_does_not_use_the_month(
    agenthost_client: Any, log: ToolLog
) -> None:
    registry = build_registry(log, slow_timeout_s=2.0)
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", max_concurrent_runs=1, runs_per_month=2)
        first = asyncio.create_task(
            client.post(
                "/v1/agents/reports/runs", json={"input": "a slow report"}, headers=key.headers
            )
        )
        await asyncio.wait_for(log.slow_started.wait(), 10)
        concurrent = await client.post(
            "/v1/agents/echo/runs", json={"input": "me too"}, headers=key.headers
        )
        first_done = await first
        after = await client.post(
            "/v1/agents/echo/runs", json={"input": "my turn"}, headers=key.headers
        )
        records = await run_rows(app, "acme")
    assert concurrent.status_code == 429, concurrent.text
    problem = concurrent.json()
    assert problem["code"] == "QUOTA_EXCEEDED"
    assert problem["quota"] == "max_concurrent_runs" and problem["limit"] == 1
    assert concurrent.headers["retry-after"] == "1"
    assert first_done.status_code == 504 and first_done.json()["code"] == "RUN_TIMEOUT"
    # The slot came back when the first run ended, and the refused run took no monthly run:
    # with runs_per_month=2, the first and this one are exactly the two allowed.
    assert after.status_code == 200, after.text
    assert [r.status for r in records] == ["failed", "succeeded"]


async def test_concurrent_runs_beyond_the_limit_are_refused_at_once(
    agenthost_client: Any, log: ToolLog
) -> None:
    registry = build_registry(log, slow_timeout_s=2.0)
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", max_concurrent_runs=1)
        other = await tenant_with_key(app, "other", max_concurrent_runs=1)
        async with client.stream(
            "POST",
            "/v1/agents/reports/runs",
            json={"input": "a slow report", "stream": True},
            headers=key.headers,
        ) as holding:
            await asyncio.wait_for(log.slow_started.wait(), 10)
            burst = await asyncio.gather(
                *(
                    client.post("/v1/agents/echo/runs", json={"input": "x"}, headers=key.headers)
                    for _ in range(3)
                )
            )
            other_tenant = await client.post(
                "/v1/agents/echo/runs", json={"input": "y"}, headers=other.headers
            )
            assert holding.status_code == 200
    assert [r.status_code for r in burst] == [429, 429, 429]
    assert other_tenant.status_code == 200  # the limit is per tenant


@pytest.mark.parametrize("stream", [False, True])
async def test_a_run_over_its_token_limit_is_stopped(
    agenthost_client: Any, log: ToolLog, stream: bool
) -> None:
    async with agenthost_client(build_registry(log), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", tokens_per_run=5)
        response = await client.post(
            "/v1/agents/orders/runs",
            json={"input": "Where is my order A-17?", "stream": stream},
            headers=key.headers,
        )
        if stream:
            assert response.status_code == 200
            last = response.text.strip().split("\n\n")[-1]
            assert "event: error" in last
            problem = json.loads(last.split("data: ", 1)[1])
            status = problem["status"]
            run_id = response.headers["x-run-id"]
        else:
            problem, status = response.json(), response.status_code
            [record] = await run_rows(app, "acme")
            run_id = record.id
            assert problem["run_id"] == run_id and "retry-after" not in response.headers
        stored = await client.get(f"/v1/runs/{run_id}", headers=key.headers)
    assert status == 422
    assert problem["code"] == "TOKEN_LIMIT_EXCEEDED" and problem["retriable"] is False
    assert problem["quota"] == "tokens_per_run" and problem["limit"] == 5
    # Stopped after the first model call: the tool never ran.
    assert log.lookups == 0
    record = stored.json()
    assert record["status"] == "failed" and record["error"]["code"] == "TOKEN_LIMIT_EXCEEDED"
    assert record["usage"]["requests"] == 1 and record["usage"]["total_tokens"] > 5
