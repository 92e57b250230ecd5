"""API keys over real HTTP: one indistinguishable 401, scopes, allowed agents, disabled tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from agenthost.store.tables import ApiKeyRow
from agenthost.tenancy.audit import Actor
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import (
    add_key,
    add_tenant,
    admin_of,
    tenant_with_key,
    update_tenant,
    without_request_id,
)

UNKNOWN_KEY = "ahk_0123456789ab_" + "x" * 43


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


def model_calls(mock: MockLLMServer) -> int:
    return int(mock.stats()["total_requests"])


async def test_every_bad_key_gets_the_same_401(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        good = await tenant_with_key(app, "acme")
        expired = await add_key(app, "acme")
        async with app.state.container.db.transaction() as tx:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await tx.execute(
                update(ApiKeyRow).where(ApiKeyRow.id == expired.id).values(expires_at=past)
            )
        revoked = await add_key(app, "acme")
        await admin_of(app).revoke_key(revoked.id, actor=Actor.cli())
        prefix = good.plaintext.split("_")[1]
        table: dict[str, dict[str, str]] = {
            "missing": {},
            "malformed": {"Authorization": "Bearer not-a-key"},
            "bearer without a key": {"Authorization": "Bearer"},
            "not a bearer scheme": {"Authorization": f"Basic {good.plaintext}"},
            "unknown": {"Authorization": f"Bearer {UNKNOWN_KEY}"},
            "unknown x-api-key": {"X-API-Key": UNKNOWN_KEY},
            "right prefix, wrong secret": {"X-API-Key": f"ahk_{prefix}_{'y' * 43}"},
            "expired": expired.headers,
            "revoked": revoked.headers,
        }
        responses = {
            case: await client.post(
                "/v1/agents/echo/runs", json={"input": "hello"}, headers=headers
            )
            for case, headers in table.items()
        }
        still_good = await client.get("/v1/agents", headers=good.headers)
    assert still_good.status_code == 200, still_good.text
    bodies = {}
    for case, response in responses.items():
        assert response.status_code == 401, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        body = response.json()
        assert body["code"] == "UNAUTHENTICATED", case
        assert response.headers["www-authenticate"] == 'Bearer realm="agenthost"', case
        assert body["request_id"] == response.headers["x-request-id"], case
        bodies[case] = without_request_id(body)
    reference = bodies["missing"]
    assert {case: body for case, body in bodies.items() if body != reference} == {}
    assert reference["status"] == 401 and reference["retriable"] is False
    assert model_calls(mock_llm) == 0


async def test_bearer_and_x_api_key_both_authenticate(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme")
        forms = [
            {"Authorization": f"Bearer {key.plaintext}"},
            {"Authorization": f"bearer {key.plaintext}"},
            {"X-API-Key": key.plaintext},
        ]
        runs = [
            await client.post("/v1/agents/echo/runs", json={"input": "hi"}, headers=headers)
            for headers in forms
        ]
        stored = await admin_of(app).list_keys("acme")
    assert [r.status_code for r in runs] == [200, 200, 200], [r.text for r in runs]
    assert all(r.json()["output"] == "Mock reply: hi" for r in runs)
    assert stored[0].last_used_at is not None


async def test_a_bad_key_is_refused_even_in_dev_mode(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=True) as (client, _):
        anonymous = await client.get("/v1/agents")
        bad = await client.get("/v1/agents", headers={"X-API-Key": UNKNOWN_KEY})
    assert anonymous.status_code == 200
    assert bad.status_code == 401 and bad.json()["code"] == "UNAUTHENTICATED"


async def test_authentication_comes_before_body_validation(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, _):
        response = await client.post("/v1/agents/echo/runs", json={"inptu": 1})
        missing_agent = await client.post("/v1/agents/nobody/runs", json={"input": "x"})
    assert response.status_code == 401
    assert missing_agent.status_code == 401  # no key: nothing about agents is revealed


async def test_a_key_without_the_scope_is_forbidden(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        reader = await tenant_with_key(app, "acme", "runs:read")
        writer = await add_key(app, "acme", "runs:write")
        admin = await tenant_with_key(app, "ops", "operator", operator=True)
        run = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=reader.headers
        )
        read_usage = await client.get("/v1/usage", headers=reader.headers)
        write_usage = await client.get("/v1/usage", headers=writer.headers)
        admin_by_tenant = [
            await client.get("/v1/admin/tenants", headers=writer.headers),
            await client.post("/v1/admin/tenants", json={"id": "evil"}, headers=reader.headers),
            await client.post(f"/v1/admin/keys/{reader.id}/revoke", headers=writer.headers),
        ]
        admin_listing = await client.get("/v1/admin/tenants", headers=admin.headers)
        admin_run = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=admin.headers
        )
    assert run.status_code == 403 and run.json()["code"] == "FORBIDDEN"
    assert "runs:write" in run.json()["detail"]
    assert read_usage.status_code == 200
    assert write_usage.status_code == 403 and "runs:read" in write_usage.json()["detail"]
    assert [r.status_code for r in admin_by_tenant] == [403, 403, 403]
    assert all(r.json()["code"] == "FORBIDDEN" for r in admin_by_tenant)
    assert admin_listing.status_code == 200
    assert {t["id"] for t in admin_listing.json()["tenants"]} == {"acme", "ops"}
    assert admin_run.status_code == 403  # operator alone does not include runs:write
    assert model_calls(mock_llm) == 0


async def test_agents_outside_the_allow_list_are_forbidden_and_hidden(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme", allowed_agents=["echo", "ticket"])
        listed = await client.get("/v1/agents", headers=key.headers)
        allowed = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=key.headers
        )
        refused = await client.post(
            "/v1/agents/orders/runs", json={"input": "order A-1?"}, headers=key.headers
        )
        refused_stream = await client.post(
            "/v1/agents/orders/runs", json={"input": "x", "stream": True}, headers=key.headers
        )
        records = await client.get("/v1/usage", headers=key.headers)
    assert [a["name"] for a in listed.json()["agents"]] == ["echo", "ticket"]
    assert allowed.status_code == 200
    for response in (refused, refused_stream):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "FORBIDDEN" and "orders" in response.json()["detail"]
    assert records.json()["totals"]["runs"] == 1  # the refused runs left no record


async def test_a_disabled_tenant_is_forbidden_until_enabled(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "acme")
        await update_tenant(app, "acme", disabled=True)
        disabled = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=key.headers
        )
        disabled_read = await client.get("/v1/agents", headers=key.headers)
        await update_tenant(app, "acme", disabled=False)
        enabled = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi"}, headers=key.headers
        )
    assert disabled.status_code == 403 and disabled.json()["code"] == "FORBIDDEN"
    assert "disabled" in disabled.json()["detail"]
    assert disabled_read.status_code == 403
    assert enabled.status_code == 200, enabled.text


async def test_probes_and_the_api_document_need_no_key(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        await add_tenant(app, "acme")
        public = {path: await client.get(path) for path in ("/health", "/ready", "/openapi.json")}
        docs = await client.get("/docs")
        private = await client.get("/v1/agents")
    assert {path: r.status_code for path, r in public.items()} == {
        "/health": 200,
        "/ready": 200,
        "/openapi.json": 200,
    }
    assert docs.status_code == 200
    assert public["/ready"].json()["checks"]["auth"] == "api keys"
    schemes = public["/openapi.json"].json()["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    assert private.status_code == 401
