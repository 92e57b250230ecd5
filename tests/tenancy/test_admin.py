"""Managing tenants and keys: references are checked, updates are partial, revocation sticks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from agenthost.errors import Conflict, Forbidden, KeyNotFound, TenantNotFound, ValidationFailed
from agenthost.store.database import Database
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.principal import Tenant, held_scopes, tenant_from_row
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantUpdate
from tests.tenancy.states import REGISTRY

SERVED_MODELS = {"gpt-served"}


@pytest.fixture
def admin(sqlite_db: Database) -> TenantAdmin:
    return TenantAdmin(sqlite_db, lambda: REGISTRY, SERVED_MODELS.__contains__)


async def test_create_then_duplicate_is_a_conflict(admin: TenantAdmin) -> None:
    spec = TenantCreate.model_validate(
        {
            "id": "acme",
            "name": "Acme",
            "runs_per_month": 10,
            "max_concurrent_runs": 2,
            "rate_limit": "10/second",
            "allowed_agents": ["a"],
            "agent_overrides": {"a": {"model": "gpt-served", "max_turns": 3}},
        }
    )
    row = await admin.create_tenant(spec, actor=Actor.cli())
    tenant = tenant_from_row(await admin.get_tenant("acme"))
    assert (tenant.name, tenant.runs_per_month, tenant.max_concurrent_runs) == ("Acme", 10, 2)
    assert tenant.rate_limit == "10/second"
    assert not tenant.disabled
    assert tenant.may_use("a")
    assert not tenant.may_use("b")
    assert tenant.overrides["a"].model == "gpt-served"
    assert tenant.overrides["a"].max_turns == 3
    assert tenant.overrides["a"].timeout_s is None
    assert row.created_at == row.updated_at

    with pytest.raises(Conflict) as info:
        await admin.create_tenant(TenantCreate(id="acme", name="Someone else"), actor=Actor.cli())
    assert info.value.status == 409
    assert [t.name for t in await admin.list_tenants()] == ["Acme"]


async def test_concurrent_creates_of_one_tenant_are_one_success_and_conflicts(
    db: Database,
) -> None:
    admin = TenantAdmin(db, lambda: REGISTRY, SERVED_MODELS.__contains__)
    results = await asyncio.gather(
        *(
            admin.create_tenant(TenantCreate(id="acme", name=str(i)), actor=Actor.cli())
            for i in range(5)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert (await admin.get_tenant("acme")).name == created[0].name


async def _invalid(admin: TenantAdmin, spec: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as info:
        await admin.create_tenant(
            TenantCreate.model_validate({"id": "acme", **spec}), actor=Actor.cli()
        )
    assert info.value.status == 422
    with pytest.raises(TenantNotFound):  # nothing was created
        await admin.get_tenant("acme")
    errors: list[dict[str, Any]] = info.value.details["errors"]
    for error in errors:
        assert error["field"] in info.value.message
    return errors


async def test_unknown_allowed_agent_is_refused_naming_the_field(admin: TenantAdmin) -> None:
    errors = await _invalid(admin, {"allowed_agents": ["a", "ghost"]})
    assert [e["field"] for e in errors] == ["allowed_agents.1"]
    assert "ghost" in errors[0]["message"]


async def test_unknown_overridden_agent_is_refused_naming_the_field(admin: TenantAdmin) -> None:
    errors = await _invalid(admin, {"agent_overrides": {"ghost": {"max_turns": 2}}})
    assert [e["field"] for e in errors] == ["agent_overrides.ghost"]


async def test_an_override_model_nobody_serves_is_refused(admin: TenantAdmin) -> None:
    errors = await _invalid(admin, {"agent_overrides": {"a": {"model": "gpt-unknown"}}})
    assert [e["field"] for e in errors] == ["agent_overrides.a.model"]
    assert "gpt-unknown" in errors[0]["message"]


async def test_every_bad_reference_is_reported(admin: TenantAdmin) -> None:
    errors = await _invalid(
        admin,
        {"allowed_agents": ["x"], "agent_overrides": {"y": {"model": "nope"}, "a": {}}},
    )
    assert {e["field"] for e in errors} == {
        "allowed_agents.0",
        "agent_overrides.y",
        "agent_overrides.y.model",
    }


async def test_update_changes_only_the_fields_sent(admin: TenantAdmin) -> None:
    created = await admin.create_tenant(
        TenantCreate(
            id="acme", name="Acme", runs_per_month=10, tokens_per_run=500, rate_limit="9/second"
        ),
        actor=Actor.cli(),
    )
    row = await admin.update_tenant(
        "acme", TenantUpdate.model_validate({"runs_per_month": 20}), actor=Actor.cli()
    )
    assert (row.name, row.runs_per_month, row.tokens_per_run) == ("Acme", 20, 500)
    assert row.rate_limit == "9/second"
    assert row.updated_at >= created.updated_at
    # null for name or disabled keeps them (they are not limits).
    row = await admin.update_tenant(
        "acme", TenantUpdate.model_validate({"name": None, "disabled": None}), actor=Actor.cli()
    )
    assert (row.name, row.disabled) == ("Acme", False)


async def test_update_with_nulls_removes_limits(admin: TenantAdmin) -> None:
    await admin.create_tenant(
        TenantCreate(
            id="acme",
            runs_per_month=10,
            tokens_per_run=500,
            max_concurrent_runs=2,
            rate_limit="9/second",
            allowed_agents=["a"],
            agent_overrides={"a": {"max_turns": 2}},
        ),
        actor=Actor.cli(),
    )
    nulls = dict.fromkeys(
        ["runs_per_month", "tokens_per_run", "max_concurrent_runs", "rate_limit", "allowed_agents",
         "agent_overrides"]
    )  # fmt: skip
    await admin.update_tenant("acme", TenantUpdate.model_validate(nulls), actor=Actor.cli())
    tenant = tenant_from_row(await admin.get_tenant("acme"))
    assert tenant.runs_per_month is None
    assert tenant.tokens_per_run is None
    assert tenant.max_concurrent_runs is None
    assert tenant.rate_limit is None
    assert tenant.allowed_agents is None
    assert tenant.may_use("b")
    assert dict(tenant.overrides) == {}


async def test_update_checks_references_and_the_tenant(admin: TenantAdmin) -> None:
    await admin.create_tenant(TenantCreate(id="acme"), actor=Actor.cli())
    with pytest.raises(ValidationFailed):
        await admin.update_tenant("acme", TenantUpdate(allowed_agents=["ghost"]), actor=Actor.cli())
    assert (await admin.get_tenant("acme")).allowed_agents is None
    with pytest.raises(TenantNotFound):
        await admin.update_tenant("nobody", TenantUpdate(name="x"), actor=Actor.cli())


async def test_keys_are_created_listed_and_revoked_once(admin: TenantAdmin) -> None:
    await admin.create_tenant(TenantCreate(id="acme"), actor=Actor.cli())
    default, plaintext = await admin.create_key("acme", KeyCreate(), actor=Actor.cli())
    assert default.scopes == ["runs:read", "runs:write"]
    assert plaintext.startswith(f"ahk_{default.prefix}_")
    admin_key, _ = await admin.create_key(
        "acme",
        KeyCreate.model_validate({"scopes": ["runs:write", "keys:admin", "runs:write"]}),
        actor=Actor.cli(),
    )
    assert admin_key.scopes == ["keys:admin", "runs:write"]
    assert [k.id for k in await admin.list_keys("acme")] == [default.id, admin_key.id]

    first = (await admin.revoke_key(default.id, actor=Actor.cli())).revoked_at
    assert first is not None
    assert (await admin.revoke_key(default.id, actor=Actor.cli())).revoked_at == first
    listed = {k.id: k.revoked_at for k in await admin.list_keys("acme")}
    assert listed == {default.id: first, admin_key.id: None}

    with pytest.raises(KeyNotFound):
        await admin.revoke_key("key_missing", actor=Actor.cli())
    with pytest.raises(TenantNotFound):
        await admin.create_key("nobody", KeyCreate(), actor=Actor.cli())
    with pytest.raises(TenantNotFound):
        await admin.list_keys("nobody")


def test_key_expiry_is_normalised_to_utc() -> None:
    later = datetime.now(timezone(timedelta(hours=2))) + timedelta(days=1)
    spec = KeyCreate(expires_at=later)
    assert spec.expires_at == later
    assert spec.expires_at is not None
    assert spec.expires_at.tzinfo == UTC


@pytest.mark.parametrize(
    "fields",
    [
        {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
        {"expires_at": (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None)},
        {"expires_at": "2099-01-01T00:00:00"},
        {"scopes": ["runs:read", "superuser"]},
        {"scopes": []},
        {"rate_limit": "lots"},
        {"rate_limit": "0/minute"},
        {"name": ""},
        {"tenant": "acme"},
    ],
    ids=lambda fields: next(iter(fields)) + "=" + str(next(iter(fields.values())))[:20],
)
def test_invalid_key_specs_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        KeyCreate.model_validate(fields)
    assert info.value.errors()[0]["loc"][0] == next(iter(fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "Acme"},
        {"id": "-acme"},
        {"id": "a" * 65},
        {"id": "acme", "runs_per_month": -1},
        {"id": "acme", "max_concurrent_runs": 0},
        {"id": "acme", "rate_limit": "often"},
        {"id": "acme", "agent_overrides": {"a": {"temperature": 1}}},
        {"id": "acme", "colour": "blue"},
    ],
)
def test_invalid_tenant_specs_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TenantCreate.model_validate(fields)


def _actor(tenant_id: str, *scopes: str) -> Actor:
    """An actor over HTTP: a key of ``tenant_id`` holding ``scopes``."""
    return Actor("key_http", tenant_id, None, frozenset(scopes))


async def test_operator_tenants_are_made_only_on_the_command_line(admin: TenantAdmin) -> None:
    everything = _actor("ops", "operator", "keys:admin", "runs:read", "runs:write")
    with pytest.raises(Forbidden, match="command line"):
        await admin.create_tenant(TenantCreate(id="evil"), actor=everything, operator=True)
    with pytest.raises(Forbidden, match="command line"):
        await admin.bootstrap_operator(TenantCreate(id="evil"), KeyCreate(), actor=everything)
    plain = await admin.create_tenant(TenantCreate(id="acme"), actor=everything)
    ops = await admin.create_tenant(TenantCreate(id="ops"), actor=Actor.cli(), operator=True)
    assert [t.id for t in await admin.list_tenants()] == ["acme", "ops"]
    assert (plain.operator, ops.operator) == (False, True)
    assert tenant_from_row(ops).operator


async def test_bootstrap_reuses_an_operator_tenant_and_refuses_an_ordinary_one(
    admin: TenantAdmin,
) -> None:
    key = KeyCreate(scopes=["operator", "runs:read"])
    tenant, first, plaintext = await admin.bootstrap_operator(
        TenantCreate(id="ops", name="Ops"), key, actor=Actor.cli()
    )
    _, second, _ = await admin.bootstrap_operator(TenantCreate(id="ops"), key, actor=Actor.cli())
    await admin.create_tenant(TenantCreate(id="acme"), actor=Actor.cli())
    with pytest.raises(Conflict, match="not an operator tenant"):
        await admin.bootstrap_operator(TenantCreate(id="acme"), key, actor=Actor.cli())
    assert tenant.operator and tenant.name == "Ops" and plaintext.startswith("ahk_")
    assert first.scopes == second.scopes == ["operator", "runs:read"]
    assert [k.id for k in await admin.list_keys("ops")] == [first.id, second.id]
    assert await admin.list_keys("acme") == []
    records = await admin.audit(limit=10)
    assert [r.action for r in records] == [
        "tenant.create",
        "key.create",
        "key.create",
        "tenant.create",
    ]
    assert records[-1].changes["operator"] is True


async def test_grants_are_bounded_by_the_actor_and_the_tenant(admin: TenantAdmin) -> None:
    await admin.create_tenant(TenantCreate(id="acme"), actor=Actor.cli())
    manager = _actor("acme", "keys:admin", "runs:read")
    with pytest.raises(Forbidden, match="'runs:write'") as info:
        await admin.create_key("acme", KeyCreate(scopes=["runs:write"]), actor=manager)
    assert info.value.details == {"scope": "runs:write"}
    with pytest.raises(Forbidden, match="rate_limit"):
        await admin.create_key(
            "acme", KeyCreate(scopes=["runs:read"], rate_limit="5/second"), actor=manager
        )
    # Even the command line, which grants anything, puts `operator` only on operator tenants.
    with pytest.raises(ValidationFailed, match="operator tenant"):
        await admin.create_key("acme", KeyCreate(scopes=["operator"]), actor=Actor.cli())
    made, _ = await admin.create_key("acme", KeyCreate(scopes=["runs:read"]), actor=manager)
    assert [k.id for k in await admin.list_keys("acme")] == [made.id]
    await admin.create_tenant(TenantCreate(id="beta"), actor=Actor.cli())
    with pytest.raises(KeyNotFound):  # another tenant's key, for a tenant's own revocation
        await admin.revoke_key(made.id, actor=_actor("beta", "keys:admin"), tenant_id="beta")
    assert (await admin.list_keys("acme"))[0].revoked_at is None


def test_only_operator_tenants_hold_the_operator_scope() -> None:
    scopes = ["operator", "runs:read"]
    assert held_scopes(Tenant("acme"), scopes) == {"runs:read"}
    assert held_scopes(Tenant("ops", operator=True), scopes) == set(scopes)
