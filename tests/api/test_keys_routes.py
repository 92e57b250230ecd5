"""A tenant's self-service (`keys:admin`) and the operator/tenant boundary, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agenthost.store.tables import ApiKeyRow
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import add_key, add_tenant, tenant_with_key


def refused_for(response: Any, scope: str) -> bool:
    body = response.json()
    return (
        response.status_code == 403
        and response.headers["content-type"] == "application/problem+json"
        and body["code"] == "FORBIDDEN"
        and body["scope"] == scope
        and f"'{scope}'" in body["detail"]
    )


async def test_a_tenant_manages_its_own_keys_only(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        manager = await tenant_with_key(app, "ta", "keys:admin", "runs:read")
        other = await tenant_with_key(app, "tb")
        created = await client.post(
            "/v1/keys", json={"name": "ci", "scopes": ["runs:read"]}, headers=manager.headers
        )
        new = created.json()
        used = await client.get("/v1/usage", headers={"Authorization": f"Bearer {new['key']}"})
        listed = await client.get("/v1/keys", headers=manager.headers)
        revoked = await client.post(f"/v1/keys/{new['id']}/revoke", headers=manager.headers)
        after = await client.get("/v1/usage", headers={"Authorization": f"Bearer {new['key']}"})
        cross = await client.post(f"/v1/keys/{other.id}/revoke", headers=manager.headers)
        missing = await client.post("/v1/keys/key_nothing/revoke", headers=manager.headers)
        other_works = await client.get("/v1/usage", headers=other.headers)
    assert created.status_code == 201, created.text
    assert new["tenant_id"] == "ta" and new["scopes"] == ["runs:read"]
    assert new["key"].startswith(f"ahk_{new['prefix']}_")
    assert used.status_code == 200 and used.json()["tenant"] == "ta"
    assert {k["id"] for k in listed.json()["keys"]} == {manager.id, new["id"]}
    assert new["key"] not in listed.text and other.id not in listed.text
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert after.status_code == 401
    assert cross.status_code == missing.status_code == 404
    assert cross.json()["code"] == "KEY_NOT_FOUND"
    assert cross.json()["detail"] == f"no API key {other.id!r}"  # as if it did not exist
    assert other_works.status_code == 200


async def test_a_key_grants_no_scope_it_does_not_hold(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        manager = await tenant_with_key(app, "ta", "keys:admin", "runs:read")
        operator = await tenant_with_key(app, "ops", "operator", "runs:read", operator=True)
        wants = {
            "operator": await client.post(
                "/v1/keys", json={"scopes": ["operator"]}, headers=manager.headers
            ),
            "runs:write": await client.post(
                "/v1/keys", json={"scopes": ["runs:read", "runs:write"]}, headers=manager.headers
            ),
            # A tenant does not raise its own limits: a key's own rate limit is an operator's.
            "rate_limit": await client.post(
                "/v1/keys",
                json={"scopes": ["runs:read"], "rate_limit": "1000/second"},
                headers=manager.headers,
            ),
            "operator's runs:write": await client.post(
                "/v1/admin/tenants/ta/keys",
                json={"scopes": ["runs:write"]},
                headers=operator.headers,
            ),
        }
        operator_for_customer = await client.post(
            "/v1/admin/tenants/ta/keys", json={"scopes": ["operator"]}, headers=operator.headers
        )
        operator_for_ops = await client.post(
            "/v1/admin/tenants/ops/keys", json={"scopes": ["operator"]}, headers=operator.headers
        )
        listed = await client.get("/v1/keys", headers=manager.headers)
    assert refused_for(wants["operator"], "operator")
    assert refused_for(wants["runs:write"], "runs:write")
    assert refused_for(wants["rate_limit"], "operator")
    assert refused_for(wants["operator's runs:write"], "runs:write")
    assert operator_for_customer.status_code == 422, operator_for_customer.text
    assert "operator tenant" in operator_for_customer.json()["detail"]
    assert operator_for_ops.status_code == 201
    assert [k["id"] for k in listed.json()["keys"]] == [manager.id]  # nothing was created


async def test_a_key_makes_no_key_that_outlives_it_or_escapes_its_rate_limit(
    agenthost_client: Any,
) -> None:
    """A short-lived or rate-limited `keys:admin` key cannot mint a key without its expiry
    or its rate limit (its tenant would keep access, or a higher limit, past the operator's
    choice)."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        await add_tenant(app, "ta")
        manager = await add_key(
            app, "ta", "keys:admin", "runs:read", expires_at=soon, rate_limit="5/minute"
        )
        inherited = await client.post(
            "/v1/keys", json={"scopes": ["runs:read"]}, headers=manager.headers
        )
        later = await client.post(
            "/v1/keys",
            json={"scopes": ["runs:read"], "expires_at": (soon + timedelta(days=1)).isoformat()},
            headers=manager.headers,
        )
        earlier = await client.post(
            "/v1/keys",
            json={"scopes": ["runs:read"], "expires_at": (soon - timedelta(minutes=5)).isoformat()},
            headers=manager.headers,
        )
    assert inherited.status_code == 201, inherited.text
    assert datetime.fromisoformat(inherited.json()["expires_at"]) == soon
    assert inherited.json()["rate_limit"] == "5/minute"
    assert later.status_code == 403 and later.json()["code"] == "FORBIDDEN"
    assert "expires_at" in later.json()["detail"]
    assert earlier.status_code == 201, earlier.text
    assert earlier.json()["rate_limit"] == "5/minute"


async def test_the_operator_scope_needs_an_operator_tenant(agenthost_client: Any) -> None:
    """A key row holding `operator` on an ordinary tenant (made before the flag, or by hand)
    still cannot act as one: the tenant's flag is the boundary."""
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "ta", "keys:admin")
        async with app.state.container.db.transaction() as tx:
            row = await tx.get(ApiKeyRow, key.id)
            assert row is not None
            row.scopes = ["keys:admin", "operator"]
        listing = await client.get("/v1/admin/tenants", headers=key.headers)
        forged = await client.post("/v1/admin/tenants/tb/keys", json={}, headers=key.headers)
    assert refused_for(listing, "operator") and refused_for(forged, "operator")


async def test_self_service_changes_are_audited_for_the_tenant_alone(
    agenthost_client: Any,
) -> None:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        manager = await tenant_with_key(app, "ta", "keys:admin", "runs:read")
        other = await tenant_with_key(app, "tb", "keys:admin")
        operator = await tenant_with_key(app, "ops", "operator", operator=True)
        made = await client.post(
            "/v1/keys", json={"name": "ci", "scopes": ["runs:read"]}, headers=manager.headers
        )
        await client.post(f"/v1/keys/{made.json()['id']}/revoke", headers=manager.headers)
        await client.patch("/v1/admin/tenants/ta", json={"name": "TA"}, headers=operator.headers)
        await client.post("/v1/keys", json={}, headers=other.headers)
        page = await client.get("/v1/audit", params={"limit": 3}, headers=manager.headers)
        rest = await client.get(
            "/v1/audit", params={"cursor": page.json()["next_cursor"]}, headers=manager.headers
        )
        no_scope = await add_key(app, "ta", "runs:read")
        refused = await client.get("/v1/audit", headers=no_scope.headers)
    records = [*page.json()["records"], *rest.json()["records"]]
    assert [(r["action"], r["actor"], r["actor_tenant"]) for r in records] == [
        ("tenant.update", "operator", None),  # another tenant's key is not named
        ("key.revoke", manager.id, "ta"),
        ("key.create", manager.id, "ta"),
        ("key.create", "cli", None),
        ("tenant.create", "cli", None),
    ]
    assert {r["tenant_id"] for r in records} == {"ta"}
    assert operator.id not in page.text + rest.text and "ops" not in page.text + rest.text
    assert records[2]["target"] == made.json()["id"]
    assert refused_for(refused, "keys:admin")
