"""The operator routes over real HTTP (dev mode: the dev tenant is an operator tenant and holds
every scope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


def error_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    return [error["field"] for error in body["errors"]]


async def test_tenant_create_read_update(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        created = await client.post(
            "/v1/admin/tenants",
            json={
                "id": "acme",
                "name": "Acme Inc.",
                "runs_per_month": 5,
                "rate_limit": "10/second;500/hour",
                "allowed_agents": ["echo"],
                "agent_overrides": {"echo": {"max_turns": 3}},
            },
        )
        fetched = await client.get("/v1/admin/tenants/acme")
        patched = await client.patch(
            "/v1/admin/tenants/acme", json={"runs_per_month": None, "tokens_per_run": 100}
        )
        listed = await client.get("/v1/admin/tenants")
    assert created.status_code == 201, created.text
    tenant = created.json()
    assert tenant["id"] == "acme" and tenant["name"] == "Acme Inc."
    assert tenant["runs_per_month"] == 5 and tenant["rate_limit"] == "10/second;500/hour"
    assert tenant["allowed_agents"] == ["echo"] and tenant["disabled"] is False
    assert tenant["agent_overrides"]["echo"]["max_turns"] == 3
    assert fetched.json() == tenant
    changed = patched.json()
    assert changed["runs_per_month"] is None and changed["tokens_per_run"] == 100
    assert changed["allowed_agents"] == ["echo"]  # fields not sent are kept
    assert changed["updated_at"] >= tenant["updated_at"]
    assert {t["id"] for t in listed.json()["tenants"]} == {"dev", "acme"}


async def test_keys_are_shown_once_listed_by_prefix_and_revocable(
    agenthost_client: Any, registry: Any
) -> None:
    async with agenthost_client(registry) as (client, _):
        await client.post("/v1/admin/tenants", json={"id": "acme"})
        created = await client.post(
            "/v1/admin/tenants/acme/keys", json={"name": "ci", "scopes": ["runs:read"]}
        )
        key = created.json()
        auth = {"Authorization": f"Bearer {key['key']}"}
        used = await client.get("/v1/usage", headers=auth)
        listed = await client.get("/v1/admin/tenants/acme/keys")
        revoked = await client.post(f"/v1/admin/keys/{key['id']}/revoke")
        again = await client.post(f"/v1/admin/keys/{key['id']}/revoke")
        refused = await client.get("/v1/usage", headers=auth)
    assert created.status_code == 201, created.text
    assert key["tenant_id"] == "acme" and key["scopes"] == ["runs:read"] and key["name"] == "ci"
    assert key["key"].startswith(f"ahk_{key['prefix']}_") and key["revoked_at"] is None
    assert used.status_code == 200 and used.json()["tenant"] == "acme"
    [entry] = listed.json()["keys"]
    assert entry["id"] == key["id"] and entry["prefix"] == key["prefix"]
    assert "key" not in entry and key["key"] not in listed.text
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "acme", "runs_per_month": -1}, "runs_per_month"),
        ({"id": "Bad Id"}, "id"),
        ({"id": "-acme"}, "id"),
        ({"id": "a" * 65}, "id"),
        ({}, "id"),
        ({"id": "acme", "rate_limit": "lots"}, "rate_limit"),
        ({"id": "acme", "rate_limit": "0/minute"}, "rate_limit"),
        ({"id": "acme", "tokens_per_run": 0}, "tokens_per_run"),
        ({"id": "acme", "max_concurrent_runs": 0}, "max_concurrent_runs"),
        ({"id": "acme", "allowed_agents": ["echo", "nobody"]}, "allowed_agents.1"),
        ({"id": "acme", "allowed_agents": ["nobody"]}, "allowed_agents.0"),
        ({"id": "acme", "agent_overrides": {"nobody": {}}}, "agent_overrides.nobody"),
        (
            {"id": "acme", "agent_overrides": {"echo": {"timeout_s": 0}}},
            "agent_overrides.echo.timeout_s",
        ),
        ({"id": "acme", "colour": "red"}, "colour"),
        ({"id": "acme", "name": "nul\u0000byte"}, "name"),
        ({"id": "acme", "runs_per_month": 2**40}, "runs_per_month"),
        (
            {"id": "acme", "agent_overrides": {"echo": {"tokens_per_run": 2**63}}},
            "agent_overrides.echo.tokens_per_run",
        ),
    ],
)
async def test_invalid_tenants_are_422_naming_the_field(
    agenthost_client: Any, registry: Any, body: dict[str, Any], field: str
) -> None:
    async with agenthost_client(registry) as (client, _):
        response = await client.post("/v1/admin/tenants", json=body)
        listed = await client.get("/v1/admin/tenants")
    assert error_fields(response) == [field]
    assert field in response.json()["detail"]
    assert [t["id"] for t in listed.json()["tenants"]] == ["dev"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["root"]}, "scopes.0"),
        ({"scopes": []}, "scopes"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2999-01-01T00:00:00"}, "expires_at"),  # no time zone
        ({"rate_limit": "often"}, "rate_limit"),
        ({"name": ""}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"expires_at": "9999-12-31T23:59:59-05:00"}, "expires_at"),  # past year 9999 in UTC
    ],
)
async def test_invalid_keys_are_422_naming_the_field(
    agenthost_client: Any, registry: Any, body: dict[str, Any], field: str
) -> None:
    async with agenthost_client(registry) as (client, _):
        await client.post("/v1/admin/tenants", json={"id": "acme"})
        response = await client.post("/v1/admin/tenants/acme/keys", json=body)
        listed = await client.get("/v1/admin/tenants/acme/keys")
    assert error_fields(response) == [field]
    assert listed.json()["keys"] == []


async def test_updates_are_validated_like_creation(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        await client.post("/v1/admin/tenants", json={"id": "acme", "runs_per_month": 3})
        unknown_agent = await client.patch(
            "/v1/admin/tenants/acme", json={"allowed_agents": ["nobody"]}
        )
        negative = await client.patch("/v1/admin/tenants/acme", json={"runs_per_month": -5})
        unchanged = await client.get("/v1/admin/tenants/acme")
    assert error_fields(unknown_agent) == ["allowed_agents.0"]
    assert error_fields(negative) == ["runs_per_month"]
    assert unchanged.json()["runs_per_month"] == 3 and unchanged.json()["allowed_agents"] is None


async def test_bad_tenant_id_in_the_path_is_422(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        response = await client.get("/v1/admin/tenants/Not_Lower")
    assert error_fields(response) == ["path.tenant_id"]


async def test_duplicates_and_unknown_ids(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        first = await client.post("/v1/admin/tenants", json={"id": "acme", "runs_per_month": 1})
        duplicate = await client.post("/v1/admin/tenants", json={"id": "acme"})
        kept = await client.get("/v1/admin/tenants/acme")
        missing = [
            await client.get("/v1/admin/tenants/nobody"),
            await client.patch("/v1/admin/tenants/nobody", json={"name": "x"}),
            await client.post("/v1/admin/tenants/nobody/keys", json={}),
            await client.get("/v1/admin/tenants/nobody/keys"),
        ]
        no_key = await client.post("/v1/admin/keys/key_nothing/revoke")
    assert first.status_code == 201
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "CONFLICT"
    assert kept.json()["runs_per_month"] == 1
    assert [r.status_code for r in missing] == [404] * 4
    assert {r.json()["code"] for r in missing} == {"TENANT_NOT_FOUND"}
    assert no_key.status_code == 404 and no_key.json()["code"] == "KEY_NOT_FOUND"


async def test_expiring_keys_work_until_they_expire(agenthost_client: Any, registry: Any) -> None:
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    async with agenthost_client(registry) as (client, _):
        await client.post("/v1/admin/tenants", json={"id": "acme"})
        created = await client.post("/v1/admin/tenants/acme/keys", json={"expires_at": expires})
        used = await client.get(
            "/v1/agents", headers={"Authorization": f"Bearer {created.json()['key']}"}
        )
    assert created.status_code == 201, created.text
    assert datetime.fromisoformat(created.json()["expires_at"]) == datetime.fromisoformat(expires)
    assert used.status_code == 200


async def test_admin_changes_are_audited_and_readable(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        await client.post("/v1/admin/tenants", json={"id": "acme"})
        created = await client.post(
            "/v1/admin/tenants/dev/keys",
            json={"name": "ops", "scopes": ["operator"]},
            headers={"X-Request-ID": "req-audit-1"},
        )
        ops_key = created.json()
        as_ops = {"Authorization": f"Bearer {ops_key['key']}"}
        await client.patch(
            "/v1/admin/tenants/acme", json={"max_concurrent_runs": 2}, headers=as_ops
        )
        page = await client.get("/v1/admin/audit", params={"limit": 2}, headers=as_ops)
        rest = await client.get(
            "/v1/admin/audit", params={"cursor": page.json()["next_cursor"]}, headers=as_ops
        )
        reader = await client.post("/v1/admin/tenants/acme/keys", json={"scopes": ["runs:read"]})
        refused = await client.get(
            "/v1/admin/audit", headers={"Authorization": f"Bearer {reader.json()['key']}"}
        )
    assert page.status_code == 200, page.text
    records = [*page.json()["records"], *rest.json()["records"]]
    assert [(r["action"], r["actor"]) for r in records] == [
        ("tenant.update", ops_key["id"]),
        ("key.create", "dev"),
        ("tenant.create", "dev"),
    ]
    assert records[0]["changes"] == {"max_concurrent_runs": 2}
    assert records[1]["request_id"] == "req-audit-1" and records[1]["target"] == ops_key["id"]
    assert rest.json()["next_cursor"] is None
    assert refused.status_code == 403
