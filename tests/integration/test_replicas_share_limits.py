"""Two ``agenthost serve`` replicas on one PostgreSQL and one Redis share quotas and limits.

200 concurrent runs, spread over both replicas, go to a tenant whose monthly quota is 50 runs,
with one key limited to 120 requests a minute and the tenant to 125. Exactly 50 runs succeed,
exactly 80 are refused by the key's limit and 70 by the quota. With a second key, the usage
both replicas report equals the sum of the successful runs, and the tenant's limit lets
exactly its last 3 requests through.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, agenthost_command, agenthost_env, wait_ready

pytestmark = pytest.mark.integration

RUNS = 200
QUOTA = 50
KEY_LIMIT = 120
TENANT_LIMIT = 125


def _cli(env: dict[str, str], *args: str) -> str:
    result = agenthost_command(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_quota_and_rate_limits_hold_across_two_replicas(
    servers: Servers, mock_llm: MockLLMServer, migrated_postgres: str, redis_url: str
) -> None:
    shared = {
        "database_url": migrated_postgres,
        "redis_url": redis_url,
        "dev_mode": "false",
        "rate_limit_per_key": f"{KEY_LIMIT}/minute",
        "access_log": "false",
        "log_level": "WARNING",
    }
    env = agenthost_env(mock_llm, **shared)
    _cli(env, "tenants", "create", "acme", "--runs-per-month", str(QUOTA),
         "--rate-limit", f"{TENANT_LIMIT}/minute")  # fmt: skip
    key, second_key = (
        json.loads(_cli(env, "keys", "create", "acme", "--json"))["key"] for _ in "12"
    )

    replicas = [servers.start(**shared) for _ in range(2)]
    clients = [
        httpx2.AsyncClient(
            base_url=url,
            timeout=60,
            headers={"Authorization": f"Bearer {key}"},
            limits=httpx2.Limits(max_connections=RUNS),
        )
        for _, url in replicas
    ]
    try:
        for client, (process, _) in zip(clients, replicas, strict=True):
            await wait_ready(client, process)
        responses = await asyncio.gather(
            *(
                clients[i % 2].post("/v1/agents/echo/runs", json={"input": f"run {i}"})
                for i in range(RUNS)
            )
        )
        outcomes = Counter(
            "ok" if r.status_code == 200 else f"{r.status_code} {r.json()['code']}"
            for r in responses
        )
        assert outcomes == {
            "ok": QUOTA,
            "429 RATE_LIMITED": RUNS - KEY_LIMIT,
            "429 QUOTA_EXCEEDED": KEY_LIMIT - QUOTA,
        }
        succeeded = [r.json() for r in responses if r.status_code == 200]
        assert {s["request_id"] is not None for s in succeeded} == {True}
        refused = [r for r in responses if r.status_code == 429]
        assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)

        other_key = {"Authorization": f"Bearer {second_key}"}
        reports = [(await c.get("/v1/usage", headers=other_key)).json() for c in clients]
        last = [
            (await clients[i % 2].get("/v1/agents", headers=other_key)).status_code
            for i in range(5)
        ]
        assert last == [200] * (TENANT_LIMIT - KEY_LIMIT - 2) + [429] * 2
    finally:
        for client in clients:
            await client.aclose()

    expected = {
        kind: sum(s["usage"][kind] for s in succeeded)
        for kind in ("requests", "input_tokens", "output_tokens", "total_tokens")
    }
    for report in reports:
        assert report["totals"]["runs"] == QUOTA and report["totals"]["succeeded"] == QUOTA
        assert {kind: report["totals"][kind] for kind in expected} == expected
        assert report["quota"] == {
            **report["quota"],
            "runs_per_month": QUOTA,
            "runs_counted": QUOTA,
        }
    assert expected["total_tokens"] > 0

    for process, _ in replicas:
        process.send_signal(signal.SIGTERM)
    for process, _ in replicas:
        assert await asyncio.to_thread(process.wait, 30) == 0
