"""Every change to tenants and keys is audited in its own transaction: who, what, when."""

from __future__ import annotations

import pytest

from agenthost.errors import KeyNotFound, TenantNotFound
from agenthost.store.database import Database
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantUpdate
from tests.tenancy.states import REGISTRY

ADMIN = Actor("key_admin1", "ops", "req-1")


@pytest.fixture
def admin(sqlite_db: Database) -> TenantAdmin:
    return TenantAdmin(sqlite_db, lambda: REGISTRY, lambda _model: True)


async def test_each_change_is_recorded_newest_first(admin: TenantAdmin) -> None:
    await admin.create_tenant(TenantCreate(id="acme", runs_per_month=5), actor=ADMIN)
    await admin.update_tenant("acme", TenantUpdate(disabled=True), actor=Actor.cli())
    key, plaintext = await admin.create_key("acme", KeyCreate(name="ci"), actor=ADMIN)
    await admin.revoke_key(key.id, actor=ADMIN)
    await admin.revoke_key(key.id, actor=ADMIN)  # no change, no record

    records = await admin.audit(limit=10)
    assert [(r.action, r.actor, r.target) for r in records] == [
        ("key.revoke", "key_admin1", key.id),
        ("key.create", "key_admin1", key.id),
        ("tenant.update", "cli", "acme"),
        ("tenant.create", "key_admin1", "acme"),
    ]
    assert all(r.tenant_id == "acme" and r.at is not None for r in records)
    assert records[2].changes == {"disabled": True}
    assert records[3].changes["runs_per_month"] == 5
    assert (records[0].actor_tenant, records[0].request_id) == ("ops", "req-1")
    assert records[1].changes["name"] == "ci"
    assert all(
        plaintext not in str(r.changes) and key.key_hash not in str(r.changes) for r in records
    )


async def test_refused_changes_leave_no_record(admin: TenantAdmin) -> None:
    with pytest.raises(TenantNotFound):
        await admin.update_tenant("ghost", TenantUpdate(name="x"), actor=ADMIN)
    with pytest.raises(KeyNotFound):
        await admin.revoke_key("key_nope", actor=ADMIN)
    assert list(await admin.audit(limit=10)) == []


async def test_pages_and_tenant_filter(admin: TenantAdmin) -> None:
    for tenant in ("a", "b", "c"):
        await admin.create_tenant(TenantCreate(id=tenant), actor=ADMIN)
    first = await admin.audit(limit=2)
    older = await admin.audit(limit=2, before=first[-1].id)
    assert [r.target for r in [*first, *older]] == ["c", "b", "a"]
    assert [r.target for r in await admin.audit(limit=10, tenant_id="b")] == ["b"]
