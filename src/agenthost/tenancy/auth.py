"""Authentication: an API key (or, in dev mode, none) becomes a :class:`Principal`.

Every failure — no key, a malformed, unknown, expired or revoked one — is the same 401, so the
answer tells a caller nothing about which keys exist.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from agenthost.errors import DependencyUnavailable, Forbidden, TenantNotFound, Unauthenticated
from agenthost.store.database import Database
from agenthost.store.repositories import keys as key_rows
from agenthost.store.repositories import tenants as tenant_rows
from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import TenantRow
from agenthost.store.types import utcnow
from agenthost.tenancy import keys
from agenthost.tenancy.principal import (
    DEV_TENANT,
    Principal,
    Scope,
    Tenant,
    held_scopes,
    tenant_from_row,
)
from agenthost.tenancy.principal_cache import Authenticated, PrincipalCache

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key, not on every request (and only
when the key is looked up, at most once per ``auth_cache_ttl_s``)."""
UNAUTHENTICATED = "A valid API key is required (Authorization: Bearer <key> or X-API-Key)"


DEV_CACHE_KEY = ""
"""The cache entry of the dev tenant (requests without a key in dev mode)."""


class Authenticator:
    def __init__(self, db: Database, *, dev_mode: bool, cache_ttl_s: float) -> None:
        self._db = db
        self._dev_mode = dev_mode
        self._cache = PrincipalCache[Authenticated](cache_ttl_s)

    def forget(self) -> None:
        """Drop every cached principal: a key, a tenant or their limits changed."""
        self._cache.clear()

    async def start(self) -> None:
        """In dev mode, make sure the dev tenant exists (entry points warn that keys are off)."""
        if self._dev_mode:
            await operator(self._db, DEV_TENANT, dev_mode=True)

    async def _dev_principal(self) -> Authenticated:
        """The dev tenant as it is now: an administrator may limit or disable it too."""
        async with self._db.transaction(read_only=True) as tx:
            row = await tenant_rows.get(tx, DEV_TENANT)
        if row is None:  # deleted behind our back: recreate it
            return Authenticated(await operator(self._db, DEV_TENANT, dev_mode=True), None)
        if row.disabled:
            raise Forbidden(f"the {DEV_TENANT!r} tenant is disabled")
        return Authenticated(_with_every_scope(tenant_from_row(row)), None)

    @property
    def dev_mode(self) -> bool:
        return self._dev_mode

    def looks_up(self, presented: str | None) -> bool:
        """Whether authenticating ``presented`` reads the database: a key not cached (no key
        reads nothing, whatever the mode)."""
        return presented is not None and not self._cache.holds(keys.digest(presented))

    async def authenticate(self, presented: str | None) -> Principal:
        if presented is None:
            if self._dev_mode:
                found = await self._cache.get(DEV_CACHE_KEY, self._dev_principal)
                return found.principal
            raise Unauthenticated(UNAUTHENTICATED)
        found = await self._cache.get(keys.digest(presented), lambda: self._lookup(presented))
        if found.key_expires_at is not None and found.key_expires_at <= utcnow():
            raise Unauthenticated(UNAUTHENTICATED)
        return found.principal

    async def _lookup(self, presented: str) -> Authenticated:
        prefix = keys.prefix_of(presented)
        found = None
        if prefix is not None:
            async with self._db.transaction(read_only=True) as tx:
                found = await key_rows.by_prefix(tx, prefix)
        now = utcnow()
        key, tenant = found if found is not None else (None, None)
        if (
            not keys.matches(presented, key.key_hash if key else None)
            or key is None
            or tenant is None
            or key.revoked_at is not None
            or (key.expires_at is not None and key.expires_at <= now)
        ):
            raise Unauthenticated(UNAUTHENTICATED)
        if tenant.disabled:
            raise Forbidden("the tenant of this API key is disabled")
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            try:
                async with self._db.transaction() as tx:
                    await key_rows.touch(tx, key.id, now)
            except DependencyUnavailable as exc:  # bookkeeping: never fail the request for it
                logger.warning("could not record when key %s was used: %s", key.id, exc.message)
        held = tenant_from_row(tenant)
        principal = Principal(
            held, key.id, held_scopes(held, key.scopes), key.rate_limit, key.expires_at
        )
        return Authenticated(principal, key.expires_at)


def _with_every_scope(tenant: Tenant) -> Principal:
    """No key: every scope the tenant's keys may hold (``operator`` on an operator tenant)."""
    return Principal(tenant, None, held_scopes(tenant, Scope))


async def operator(db: Database, tenant_id: str, *, dev_mode: bool = False) -> Principal:
    """Whoever runs the CLI on this machine, acting as ``tenant_id`` (the dev tenant is
    created when missing; any other must exist)."""
    if tenant_id == DEV_TENANT:
        # Dev mode is local only: its tenant is an operator, so its demo may do everything.
        # Outside dev mode (`agenthost run` on a real database) it is an ordinary tenant.
        row: TenantRow | None = await ensure_tenant(
            db, DEV_TENANT, "Development (dev mode, no keys)", operator=dev_mode
        )
    else:
        async with db.transaction(read_only=True) as tx:
            row = await tenant_rows.get(tx, tenant_id)
    if row is None:
        raise TenantNotFound(f"no tenant {tenant_id!r}; create it with `agenthost tenants create`")
    return _with_every_scope(tenant_from_row(row))


async def ensure_tenant(
    db: Database, tenant_id: str, name: str, *, operator: bool = False
) -> TenantRow:
    """The tenant ``tenant_id``, created without limits if it does not exist (race-free);
    ``operator`` marks it an operator tenant, also when it existed."""
    now = utcnow()
    async with db.transaction() as tx:
        await insert_ignore(
            tx,
            TenantRow,
            {
                "id": tenant_id,
                "name": name,
                "disabled": False,
                "operator": operator,
                "agent_overrides": {},
                "created_at": now,
                "updated_at": now,
            },
        )
        row = await tenant_rows.get(tx, tenant_id)
        assert row is not None
        if operator and not row.operator:
            row.operator = True
        return row
