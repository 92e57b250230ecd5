"""Tenants never see each other: runs, sessions and usage are scoped to the caller's tenant."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import IssuedKey, tenant_with_key, without_request_id


@asynccontextmanager
async def two_tenants(
    agenthost_client: Any,
) -> AsyncIterator[tuple[Any, Any, IssuedKey, IssuedKey]]:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, app):
        a = await tenant_with_key(app, "tenant-a")
        b = await tenant_with_key(app, "tenant-b")
        yield client, app, a, b


async def run(client: Any, key: IssuedKey, text: str, session_id: str | None = None) -> Any:
    body: dict[str, Any] = {"input": text}
    if session_id is not None:
        body["session_id"] = session_id
    response = await client.post("/v1/agents/echo/runs", json=body, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


def user_texts(session: dict[str, Any]) -> list[str]:
    return [item["content"] for item in session["items"] if item.get("role") == "user"]


async def test_another_tenants_run_looks_missing(agenthost_client: Any) -> None:
    async with two_tenants(agenthost_client) as (client, _, a, b):
        b_run = (await run(client, b, "secret plans"))["run_id"]
        as_a = await client.get(f"/v1/runs/{b_run}", headers=a.headers)
        made_up = "run_" + "0" * 32
        missing = await client.get(f"/v1/runs/{made_up}", headers=a.headers)
        as_b = await client.get(f"/v1/runs/{b_run}", headers=b.headers)
    assert as_a.status_code == missing.status_code == 404
    assert as_a.json()["code"] == "RUN_NOT_FOUND"
    assert as_a.headers["content-type"] == missing.headers["content-type"]
    seen = without_request_id(as_a.json())
    assert seen == {**without_request_id(missing.json()), "detail": f"no run {b_run!r}"}
    assert "secret" not in as_a.text and "tenant-b" not in as_a.text
    assert as_b.status_code == 200 and as_b.json()["run_id"] == b_run


async def test_another_tenants_session_cannot_be_read_or_deleted(agenthost_client: Any) -> None:
    async with two_tenants(agenthost_client) as (client, _, a, b):
        await run(client, b, "b says hello", session_id="conv-1")
        read = await client.get("/v1/sessions/conv-1", headers=a.headers)
        deleted = await client.delete("/v1/sessions/conv-1", headers=a.headers)
        never = await client.get("/v1/sessions/conv-404", headers=a.headers)
        b_view = await client.get("/v1/sessions/conv-1", headers=b.headers)
    assert read.status_code == deleted.status_code == 404
    assert read.json()["code"] == deleted.json()["code"] == "SESSION_NOT_FOUND"
    assert without_request_id(read.json()) == {
        **without_request_id(never.json()),
        "detail": "no session 'conv-1'",
    }
    assert b_view.status_code == 200 and user_texts(b_view.json()) == ["b says hello"]


async def test_the_same_session_id_is_two_conversations(agenthost_client: Any) -> None:
    async with two_tenants(agenthost_client) as (client, _, a, b):
        await run(client, b, "b first", session_id="shared")
        before = (await client.get("/v1/sessions/shared", headers=b.headers)).json()
        a_first = await run(client, a, "a first", session_id="shared")
        fresh = await run(client, a, "a first")  # the same text without any history
        a_view = (await client.get("/v1/sessions/shared", headers=a.headers)).json()
        after = (await client.get("/v1/sessions/shared", headers=b.headers)).json()
    assert user_texts(a_view) == ["a first"] and len(a_view["items"]) == 2
    assert "b first" not in str(a_view)
    # B's history was not sent to the model on A's behalf: A's run cost what a fresh one does.
    assert a_first["usage"]["input_tokens"] == fresh["usage"]["input_tokens"]
    assert after == before


async def test_usage_counts_only_the_callers_runs(agenthost_client: Any) -> None:
    async with two_tenants(agenthost_client) as (client, _, a, b):
        mine = await run(client, a, "one")
        for text_ in ("two", "three"):
            await run(client, b, text_)
        a_usage = (await client.get("/v1/usage", headers=a.headers)).json()
        b_usage = (await client.get("/v1/usage", headers=b.headers)).json()
    assert a_usage["tenant"] == "tenant-a" and b_usage["tenant"] == "tenant-b"
    assert a_usage["totals"]["runs"] == 1 and b_usage["totals"]["runs"] == 2
    assert a_usage["totals"]["total_tokens"] == mine["usage"]["total_tokens"]
    assert a_usage["quota"]["runs_counted"] == 1 and b_usage["quota"]["runs_counted"] == 2


async def test_the_database_holds_no_plaintext_key(agenthost_client: Any) -> None:
    async with two_tenants(agenthost_client) as (client, app, a, b):
        assert (await client.get("/v1/agents", headers=a.headers)).status_code == 200
        async with app.state.container.db.transaction() as tx:
            rows = (await tx.execute(text("SELECT * FROM api_keys"))).mappings().all()
    assert len(rows) == 2
    stored = " ".join(str(value) for row in rows for value in row.values())
    for key in (a, b):
        secret = key.plaintext.split("_", 2)[2]
        assert key.plaintext not in stored and secret not in stored
    digests = {row["key_hash"] for row in rows}
    assert digests == {hashlib.sha256(k.plaintext.encode()).hexdigest() for k in (a, b)}
