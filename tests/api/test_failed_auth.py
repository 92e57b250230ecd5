"""Bad keys cost nothing: failed authentications spend a per-IP budget checked before a key is
looked up, so a flood of fake keys reaches the database at most ``auth_failure_limit`` times."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from sqlalchemy import event

from agenthost.api.app import create_app
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key
from tests.conftest import mock_settings

FLOOD = 2000
BATCH = 100
LIMIT = 20


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


def fake_key() -> str:
    """A well-formed key (``ahk_<12 hex>_<secret>``) that no tenant holds."""
    return f"ahk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


@contextmanager
def key_lookups(app: Any) -> Iterator[list[str]]:
    """Every SQL statement reading the API keys table while inside, as executed."""
    seen: list[str] = []
    engine = app.state.container.db.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "api_keys" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_flood_of_fake_keys_reaches_the_database_at_most_the_limit(
    mock_llm: Any, registry: Any
) -> None:
    settings = mock_settings(mock_llm, dev_mode=False, auth_failure_limit=f"{LIMIT}/minute")
    app = create_app(settings, registry=registry)
    # In-process (no sockets): the flood is about the middleware, and stays fast.
    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        with key_lookups(app) as lookups:
            statuses: list[int] = []
            for _ in range(FLOOD // BATCH):  # concurrent, so lookups in flight overlap
                batch = await asyncio.gather(
                    *(
                        client.get("/v1/agents", headers={"X-API-Key": fake_key()})
                        for _ in range(BATCH)
                    )
                )
                statuses += [r.status_code for r in batch]
                last = batch[-1]
    assert len(statuses) == FLOOD
    assert 0 < statuses.count(401) <= LIMIT
    assert statuses.count(429) == FLOOD - statuses.count(401)
    assert 0 < len(lookups) <= LIMIT
    problem = last.json()
    assert last.status_code == 429 and problem["code"] == "RATE_LIMITED"
    assert problem["limit_scope"] == "auth_failures"
    assert 0 < int(last.headers["retry-after"]) <= 60


async def test_a_spent_budget_refuses_every_key_not_already_cached(
    agenthost_client: Any, registry: Any
) -> None:
    settings = {"dev_mode": False, "auth_failure_limit": "2/minute", "auth_cache_ttl_s": 60}
    async with agenthost_client(registry, **settings) as (client, app):
        cached = await tenant_with_key(app, "acme")
        fresh = await tenant_with_key(app, "other")
        before = await client.get("/v1/agents", headers=cached.headers)
        failures = [
            await client.get("/v1/agents", headers={"X-API-Key": key})
            for key in ("not-a-key", fake_key())
        ]
        with key_lookups(app) as lookups:
            refused_fake = await client.get("/v1/agents", headers={"X-API-Key": fake_key()})
            refused_valid = await client.get("/v1/agents", headers=fresh.headers)
            still_cached = await client.get("/v1/agents", headers=cached.headers)
            no_key = await client.get("/v1/agents")
        document = await client.get("/openapi.json")
    assert before.status_code == 200
    assert [r.status_code for r in failures] == [401, 401]  # malformed keys count too
    assert refused_fake.status_code == 429
    # The budget is checked before anyone can know a key is valid: it is refused too.
    assert refused_valid.status_code == 429, refused_valid.text
    assert refused_valid.json()["limit_scope"] == "auth_failures"
    assert lookups == []  # none of them reached the database
    # A key authenticated a moment ago needs no lookup, and no key needs none either.
    assert still_cached.status_code == 200
    assert no_key.status_code == 401
    assert document.status_code == 200  # the open routes' limit is another budget


async def test_a_burst_of_one_valid_key_is_not_taken_for_failures(
    mock_llm: Any, registry: Any
) -> None:
    """A backend sending many concurrent requests with its (uncached) key is one lookup in
    flight, not many failures-to-be: none of its requests is refused."""
    settings = mock_settings(mock_llm, dev_mode=False, auth_failure_limit=f"{LIMIT}/minute")
    app = create_app(settings, registry=registry)
    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        key = await tenant_with_key(app, "acme")
        burst = await asyncio.gather(
            *(client.get("/v1/agents", headers=key.headers) for _ in range(BATCH))
        )
    assert [r.status_code for r in burst] == [200] * BATCH
