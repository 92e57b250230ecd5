"""``GET /v1/usage`` over real HTTP: totals equal the runs' own usage, by month or by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key

TOKENS = ("requests", "input_tokens", "output_tokens", "total_tokens")


@pytest.fixture
def log() -> ToolLog:
    return ToolLog()


def summed(usages: list[dict[str, int]]) -> dict[str, int]:
    return {name: sum(u[name] for u in usages) for name in TOKENS}


async def _three_runs(client: Any, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    bodies = [
        ("echo", "hello"),
        ("echo", "a somewhat longer message than the first one"),
        ("orders", "Where is my order A-17?"),
    ]
    usages = []
    for agent, text in bodies:
        response = await client.post(
            f"/v1/agents/{agent}/runs", json={"input": text}, headers=headers or {}
        )
        assert response.status_code == 200, response.text
        usages.append(response.json()["usage"])
    return usages


async def test_monthly_totals_equal_the_runs_usage(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", runs_per_month=10)
        usages = await _three_runs(client, key.headers)
        response = await client.get("/v1/usage", headers=key.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    today = datetime.now(UTC).date()
    assert report["tenant"] == "acme" and report["granularity"] == "month"
    assert report["since"] == today.replace(day=1).isoformat()
    assert report["until"] == today.isoformat()
    totals = report["totals"]
    assert {name: totals[name] for name in TOKENS} == summed(usages)
    assert (totals["runs"], totals["succeeded"], totals["failed"]) == (3, 3, 0)
    month = today.strftime("%Y-%m")
    lines = {(line["period"], line["agent"]): line for line in report["periods"]}
    assert set(lines) == {(month, "echo"), (month, "orders")}
    assert lines[(month, "echo")]["runs"] == 2
    assert {n: lines[(month, "echo")][n] for n in TOKENS} == summed(usages[:2])
    assert {n: lines[(month, "orders")][n] for n in TOKENS} == summed(usages[2:])
    assert report["quota"]["runs_per_month"] == 10 and report["quota"]["runs_counted"] == 3


async def test_daily_granularity(agenthost_client: Any, log: ToolLog) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        usages = await _three_runs(client)
        today = datetime.now(UTC).date()
        daily = (await client.get("/v1/usage", params={"granularity": "day"})).json()
        window = {
            "since": (today - timedelta(days=30)).isoformat(),
            "until": (today - timedelta(days=1)).isoformat(),
        }
        before = (await client.get("/v1/usage", params=window)).json()
    assert daily["granularity"] == "day"
    assert {line["period"] for line in daily["periods"]} == {today.isoformat()}
    assert {name: daily["totals"][name] for name in TOKENS} == summed(usages)
    assert before["periods"] == [] and before["totals"]["runs"] == 0
    assert before["quota"]["runs_counted"] == 3  # the quota is always this month's


async def test_failed_runs_are_counted_as_failed(agenthost_client: Any, log: ToolLog) -> None:
    registry = build_registry(log, slow_timeout_s=0.3)
    async with agenthost_client(registry) as (client, _):
        ok = await client.post("/v1/agents/echo/runs", json={"input": "fine"})
        failed = await client.post("/v1/agents/reports/runs", json={"input": "a slow report"})
        report = (await client.get("/v1/usage")).json()
    assert ok.status_code == 200 and failed.status_code == 504
    totals = report["totals"]
    assert (totals["runs"], totals["succeeded"], totals["failed"]) == (2, 1, 1)
    # The timed-out run's model call is billed too.
    assert totals["requests"] == ok.json()["usage"]["requests"] + 1
    assert totals["total_tokens"] > ok.json()["usage"]["total_tokens"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2030-02-02", "until": "2030-02-01"}, "since"),
        ({"since": "2020-01-01", "until": "2022-01-01"}, "since"),
        ({"granularity": "week"}, "query.granularity"),
        ({"since": "yesterday"}, "query.since"),
        ({"until": "2030-13-01"}, "query.until"),
    ],
)
async def test_invalid_ranges_are_422(
    agenthost_client: Any, log: ToolLog, params: dict[str, str], field: str
) -> None:
    async with agenthost_client(build_registry(log)) as (client, _):
        response = await client.get("/v1/usage", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in response.json()["errors"]] == [field]
