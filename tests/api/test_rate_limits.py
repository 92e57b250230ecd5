"""Rate limits over real HTTP: per tenant, per key, per IP, and when Redis is unreachable."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import add_key, tenant_with_key


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


def rate_headers(response: Any) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["ratelimit-limit"]),
        int(headers["ratelimit-remaining"]),
        int(headers["ratelimit-reset"]),
    )


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_tenant_limit_refuses_the_third_request(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", rate_limit="2/minute")
        first = await client.post("/v1/agents/echo/runs", json={"input": "a"}, headers=key.headers)
        second = await client.get("/v1/usage", headers=key.headers)
        third = await client.post("/v1/agents/echo/runs", json={"input": "c"}, headers=key.headers)
    assert [first.status_code, second.status_code] == [200, 200]
    limit, remaining, reset = rate_headers(first)
    assert (limit, remaining) == (2, 1) and 0 < reset <= 60
    assert rate_headers(second)[:2] == (2, 0)
    assert third.status_code == 429, third.text
    problem = third.json()
    assert problem["code"] == "RATE_LIMITED" and problem["retriable"] is True
    assert problem["limit_scope"] == "tenant"
    retry_after = int(third.headers["retry-after"])
    assert 0 < retry_after <= 60
    limit, remaining, reset = rate_headers(third)
    assert (limit, remaining) == (2, 0) and reset == retry_after


async def test_the_tenant_limit_is_shared_by_its_keys(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        first = await tenant_with_key(app, "acme", rate_limit="2/minute")
        second = await add_key(app, "acme")
        other = await tenant_with_key(app, "other", rate_limit="2/minute")
        statuses = [
            (await client.get("/v1/agents", headers=key.headers)).status_code
            for key in (first, second, second, other)
        ]
    assert statuses == [200, 200, 429, 200]


async def test_a_key_limit_applies_to_that_key_only(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        await tenant_with_key(app, "acme")
        limited = await add_key(app, "acme", rate_limit="1/minute")
        unlimited = await add_key(app, "acme")
        ok = await client.get("/v1/agents", headers=limited.headers)
        refused = await client.get("/v1/agents", headers=limited.headers)
        other_key = await client.get("/v1/agents", headers=unlimited.headers)
    assert rate_headers(ok)[:2] == (1, 0)
    assert refused.status_code == 429 and refused.json()["limit_scope"] == "key"
    assert other_key.status_code == 200


async def test_open_routes_count_per_ip(agenthost_client: Any, registry: Any) -> None:
    settings = {"dev_mode": False, "rate_limit_per_ip": "2/minute"}
    async with agenthost_client(registry, **settings) as (client, app):
        key = await tenant_with_key(app, "acme")
        documents = [await client.get("/openapi.json") for _ in range(3)]
        probes = [await client.get(path) for path in ("/health", "/ready")]
        bad = await client.get("/v1/agents", headers={"X-API-Key": "guess"})
        good = await client.get("/v1/agents", headers=key.headers)
    assert [r.status_code for r in documents] == [200, 200, 429]
    assert rate_headers(documents[0])[:2] == (2, 1)
    assert documents[2].json()["limit_scope"] == "ip"
    # Probes are never limited: a load balancer's single IP must not fail liveness.
    assert [r.status_code for r in probes] == [200, 200]
    assert "RateLimit-Limit" not in probes[0].headers
    # Keys are not limited by the IP's open-route limit (failures have a budget of their own).
    assert (bad.status_code, good.status_code) == (401, 200)


async def test_unreachable_redis_failing_closed_refuses_requests(
    agenthost_client: Any, registry: Any
) -> None:
    settings = {
        "dev_mode": False,
        "redis_url": f"redis://127.0.0.1:{closed_port()}/0",
        "redis_failure_mode": "closed",
        "redis_timeout_s": 0.2,
    }
    async with agenthost_client(registry, **settings) as (client, app):
        key = await tenant_with_key(app, "acme")
        refused = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=key.headers
        )
        ready = await client.get("/ready")
        health = await client.get("/health")
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "DEPENDENCY_UNAVAILABLE"
    assert int(refused.headers["retry-after"]) >= 1
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["redis"].startswith("unreachable")
    assert ready.json()["checks"]["database"] == "ok"
    assert health.status_code == 200  # liveness does not depend on Redis


async def test_unreachable_redis_failing_open_lets_requests_through(
    agenthost_client: Any, registry: Any
) -> None:
    settings = {
        "dev_mode": False,
        "redis_url": f"redis://127.0.0.1:{closed_port()}/0",
        "redis_failure_mode": "open",
        "redis_timeout_s": 0.2,
        "rate_limit_per_key": "1/minute",
    }
    async with agenthost_client(registry, **settings) as (client, app):
        key = await tenant_with_key(app, "acme")
        runs = [
            await client.post("/v1/agents/echo/runs", json={"input": "hi"}, headers=key.headers)
            for _ in range(2)
        ]
        ready = await client.get("/ready")
    assert [r.status_code for r in runs] == [200, 200], [r.text for r in runs]
    assert "ratelimit-limit" not in runs[0].headers
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["redis"].startswith("unreachable")
