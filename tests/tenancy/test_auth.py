"""Authentication: keys become principals; every failure is the same 401."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from agenthost.errors import ErrorCode, Forbidden, TenantNotFound, Unauthenticated
from agenthost.registry import AgentRegistry
from agenthost.store.database import Database
from agenthost.store.tables import ApiKeyRow, TenantRow
from agenthost.tenancy import keys
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.auth import Authenticator, operator
from agenthost.tenancy.principal import DEV_TENANT, Scope
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantUpdate
from tests.waiting import eventually


@pytest.fixture
async def admin(sqlite_db: Database) -> TenantAdmin:
    admin = TenantAdmin(sqlite_db, AgentRegistry, lambda _model: True)
    await admin.create_tenant(
        TenantCreate(id="acme", name="Acme", runs_per_month=7), actor=Actor.cli()
    )
    return admin


@pytest.fixture
def auth(sqlite_db: Database) -> Authenticator:
    """Reads the database on every request (the cache's own tests are below)."""
    return Authenticator(sqlite_db, dev_mode=False, cache_ttl_s=0.0)


async def _key(admin: TenantAdmin, **spec: object) -> tuple[ApiKeyRow, str]:
    return await admin.create_key("acme", KeyCreate.model_validate(spec), actor=Actor.cli())


async def _row(db: Database, key_id: str) -> ApiKeyRow:
    async with db.transaction() as tx:
        row = await tx.get(ApiKeyRow, key_id)
    assert row is not None
    return row


async def _set_key(db: Database, key_id: str, **values: object) -> None:
    async with db.transaction() as tx:
        await tx.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(**values))


async def test_a_valid_key_is_its_tenant_with_its_scopes(
    admin: TenantAdmin, auth: Authenticator
) -> None:
    row, plaintext = await _key(admin, scopes=["runs:read"], rate_limit="5/second")
    principal = await auth.authenticate(plaintext)
    assert principal.tenant.id == "acme"
    assert principal.tenant.name == "Acme"
    assert principal.tenant.runs_per_month == 7
    assert principal.key_id == row.id
    assert principal.scopes == frozenset({"runs:read"})
    assert principal.rate_limit == "5/second"
    principal.require(Scope.RUNS_READ)
    with pytest.raises(Forbidden, match="runs:write"):
        principal.require(Scope.RUNS_WRITE)


async def _failure(auth: Authenticator, presented: str | None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as info:
        await auth.authenticate(presented)
    return info.value


async def test_every_authentication_failure_looks_the_same(
    sqlite_db: Database, admin: TenantAdmin, auth: Authenticator
) -> None:
    valid, valid_plaintext = await _key(admin)
    expired, expired_plaintext = await _key(admin)
    await _set_key(sqlite_db, expired.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    revoked, revoked_plaintext = await _key(admin)
    await admin.revoke_key(revoked.id, actor=Actor.cli())
    presented = {
        "missing": None,
        "malformed": "not-a-key",
        "short prefix": "ahk_abc_secret",
        "unknown prefix": keys.generate().plaintext,
        "wrong secret": f"ahk_{valid.prefix}_{'x' * 43}",
        "expired": expired_plaintext,
        "revoked": revoked_plaintext,
    }
    failures = {case: await _failure(auth, key) for case, key in presented.items()}
    answers = {
        case: (f.message, f.status, f.code, f.details, f.headers) for case, f in failures.items()
    }
    assert all(answer == answers["missing"] for answer in answers.values()), answers
    assert failures["missing"].status == 401
    assert failures["missing"].code == ErrorCode.UNAUTHENTICATED
    # The valid key of the same tenant still works: the failures were about the keys.
    assert (await auth.authenticate(valid_plaintext)).key_id == valid.id


async def test_a_disabled_tenant_is_forbidden_not_unauthenticated(
    admin: TenantAdmin, auth: Authenticator
) -> None:
    _, plaintext = await _key(admin)
    await admin.update_tenant("acme", TenantUpdate(disabled=True), actor=Actor.cli())
    with pytest.raises(Forbidden) as info:
        await auth.authenticate(plaintext)
    assert info.value.status == 403
    await admin.update_tenant("acme", TenantUpdate(disabled=False), actor=Actor.cli())
    assert (await auth.authenticate(plaintext)).tenant.id == "acme"


async def test_last_used_is_written_at_most_once_a_minute(
    sqlite_db: Database, admin: TenantAdmin, auth: Authenticator
) -> None:
    row, plaintext = await _key(admin)
    assert row.last_used_at is None
    before = datetime.now(UTC)
    await auth.authenticate(plaintext)
    first = (await _row(sqlite_db, row.id)).last_used_at
    assert first is not None
    assert first >= before - timedelta(seconds=1)
    await auth.authenticate(plaintext)
    assert (await _row(sqlite_db, row.id)).last_used_at == first

    stale = datetime.now(UTC) - timedelta(minutes=2)
    await _set_key(sqlite_db, row.id, last_used_at=stale)
    await auth.authenticate(plaintext)
    refreshed = (await _row(sqlite_db, row.id)).last_used_at
    assert refreshed is not None
    assert refreshed > stale + timedelta(minutes=1)


async def test_the_database_holds_no_plaintext_key(sqlite_db: Database, admin: TenantAdmin) -> None:
    row, plaintext = await _key(admin, name="ci")
    secret = plaintext.split("_", 2)[2]
    async with sqlite_db.transaction() as tx:
        rows = (await tx.execute(text("SELECT * FROM api_keys"))).all()
    assert len(rows) == 1
    for value in rows[0]:
        assert plaintext not in str(value)
        assert secret not in str(value)
    assert row.key_hash == keys.digest(plaintext)


async def test_dev_mode_without_a_key_is_the_dev_tenant_with_every_scope(
    sqlite_db: Database,
) -> None:
    auth = Authenticator(sqlite_db, dev_mode=True, cache_ttl_s=0.0)
    await auth.start()
    principal = await auth.authenticate(None)
    assert principal.tenant.id == DEV_TENANT
    assert principal.key_id is None
    assert principal.scopes == frozenset(Scope)
    async with sqlite_db.transaction() as tx:
        dev = await tx.scalar(select(TenantRow).where(TenantRow.id == DEV_TENANT))
    assert dev is not None
    assert not dev.disabled and dev.operator  # local only: its demo may do everything
    # A key that is presented is still checked.
    with pytest.raises(Unauthenticated):
        await auth.authenticate(keys.generate().plaintext)


async def test_the_dev_tenant_is_read_afresh_so_it_can_be_limited_or_disabled(
    sqlite_db: Database,
) -> None:
    auth = Authenticator(sqlite_db, dev_mode=True, cache_ttl_s=300)
    await auth.start()
    admin = TenantAdmin(sqlite_db, AgentRegistry, lambda _model: True, on_change=auth.forget)
    assert (await auth.authenticate(None)).tenant.runs_per_month is None  # now cached
    await admin.update_tenant(DEV_TENANT, TenantUpdate(runs_per_month=3), actor=Actor.cli())
    assert (await auth.authenticate(None)).tenant.runs_per_month == 3
    await admin.update_tenant(DEV_TENANT, TenantUpdate(disabled=True), actor=Actor.cli())
    with pytest.raises(Forbidden):
        await auth.authenticate(None)


async def test_without_dev_mode_start_creates_no_dev_tenant(
    sqlite_db: Database, auth: Authenticator
) -> None:
    await auth.start()
    assert not auth.dev_mode
    with pytest.raises(Unauthenticated):
        await auth.authenticate(None)
    async with sqlite_db.transaction() as tx:
        assert await tx.get(TenantRow, DEV_TENANT) is None


async def test_operator_acts_as_an_existing_tenant_only(
    sqlite_db: Database, admin: TenantAdmin
) -> None:
    principal = await operator(sqlite_db, "acme")
    assert principal.tenant.id == "acme"
    assert principal.scopes == frozenset(Scope) - {Scope.OPERATOR}  # not an operator tenant
    with pytest.raises(TenantNotFound):
        await operator(sqlite_db, "nobody")


async def test_acting_as_the_dev_tenant_outside_dev_mode_makes_no_operator(
    sqlite_db: Database,
) -> None:
    """`agenthost run` (tenant `dev` by default) on a production database neither creates an
    operator tenant nor promotes an ordinary tenant named `dev`: only `tenants create
    --operator`, `bootstrap-operator` and dev mode itself make one."""
    principal = await operator(sqlite_db, DEV_TENANT)
    async with sqlite_db.transaction() as tx:
        row = await tx.get(TenantRow, DEV_TENANT)
        assert row is not None and not row.operator
    assert Scope.OPERATOR not in principal.scopes
    in_dev_mode = await operator(sqlite_db, DEV_TENANT, dev_mode=True)
    assert in_dev_mode.tenant.operator and Scope.OPERATOR in in_dev_mode.scopes


async def _refused(auth: Authenticator, plaintext: str) -> bool:
    try:
        await auth.authenticate(plaintext)
    except Unauthenticated:
        return True
    return False


@pytest.mark.parametrize("ttl_s", [300, 0.05])
async def test_a_cached_key_revoked_elsewhere_works_until_its_ttl_ends(
    admin: TenantAdmin, sqlite_db: Database, ttl_s: float
) -> None:
    """Another replica (here: a direct write) revokes the key: this one keeps trusting it for
    the cache's TTL without reading the database, and refuses it after."""
    auth = Authenticator(sqlite_db, dev_mode=False, cache_ttl_s=ttl_s)
    row, plaintext = await _key(admin)
    await auth.authenticate(plaintext)
    await _set_key(sqlite_db, row.id, revoked_at=datetime.now(UTC))
    if ttl_s == 300:
        assert (await auth.authenticate(plaintext)).key_id == row.id
    else:
        await eventually(lambda: _refused(auth, plaintext))


async def test_revoking_or_changing_through_this_process_applies_at_once(
    sqlite_db: Database,
) -> None:
    auth = Authenticator(sqlite_db, dev_mode=False, cache_ttl_s=300)
    admin = TenantAdmin(sqlite_db, AgentRegistry, lambda _model: True, on_change=auth.forget)
    await admin.create_tenant(TenantCreate(id="acme", name="Acme"), actor=Actor.cli())
    row, plaintext = await _key(admin)
    assert (await auth.authenticate(plaintext)).tenant.runs_per_month is None
    await admin.update_tenant("acme", TenantUpdate(runs_per_month=3), actor=Actor.cli())
    assert (await auth.authenticate(plaintext)).tenant.runs_per_month == 3
    await admin.revoke_key(row.id, actor=Actor.cli())
    assert await _refused(auth, plaintext)


async def test_a_cached_key_still_expires_on_time(admin: TenantAdmin, sqlite_db: Database) -> None:
    auth = Authenticator(sqlite_db, dev_mode=False, cache_ttl_s=300)
    expires = datetime.now(UTC) + timedelta(seconds=0.3)
    _, plaintext = await _key(admin, expires_at=expires.isoformat())
    await auth.authenticate(plaintext)
    await eventually(lambda: _refused(auth, plaintext))
    assert datetime.now(UTC) >= expires
