"""``GET /v1/runs``: the caller's runs, newest first, paged and filtered; never another's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


async def test_runs_are_listed_newest_first_in_pages(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, retry_max_attempts=1) as (client, _app):
        ids = []
        for i in range(5):
            response = await client.post("/v1/agents/echo/runs", json={"input": f"n{i}"})
            ids.append(response.json()["run_id"])
        failed = await client.post("/v1/agents/ticket/runs", json={"input": "[[fault:500]]"})
        first = (await client.get("/v1/runs", params={"limit": 4})).json()
        rest = (
            await client.get("/v1/runs", params={"limit": 4, "cursor": first["next_cursor"]})
        ).json()
        echo_only = (await client.get("/v1/runs", params={"agent": "echo"})).json()
        failures = (await client.get("/v1/runs", params={"status": "failed"})).json()
        bad_cursor = await client.get("/v1/runs", params={"cursor": "not-a-cursor"})
        bad_status = await client.get("/v1/runs", params={"status": "sideways"})
    listed = [r["run_id"] for r in first["runs"] + rest["runs"]]
    assert listed == [failed.json()["run_id"], *reversed(ids)]
    assert first["next_cursor"] is not None and rest["next_cursor"] is None
    assert [r["run_id"] for r in echo_only["runs"]] == list(reversed(ids))
    assert [r["run_id"] for r in failures["runs"]] == [failed.json()["run_id"]]
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"
    assert bad_status.status_code == 422


async def test_a_tenant_lists_only_its_own_runs(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        a = await tenant_with_key(app, "tenant-a")
        b = await tenant_with_key(app, "tenant-b")
        mine = await client.post("/v1/agents/echo/runs", json={"input": "a"}, headers=a.headers)
        await client.post("/v1/agents/echo/runs", json={"input": "b"}, headers=b.headers)
        listed = (await client.get("/v1/runs", headers=a.headers)).json()
    assert [r["run_id"] for r in listed["runs"]] == [mine.json()["run_id"]]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/runs/abc%00",
        "/v1/runs?agent=a%00b",
        "/v1/runs?cursor=MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMH5ydW5fYQ==",  # year 1, +14:00
        "/v1/admin/keys/k%00/revoke",
    ],
)
async def test_hostile_identifiers_are_422_not_500(
    agenthost_client: Any, registry: Any, path: str
) -> None:
    async with agenthost_client(registry) as (client, _app):
        method = client.post if path.endswith("/revoke") else client.get
        response = await method(path)
    assert response.status_code == 422, response.text


async def test_runs_are_filtered_by_mode_and_time(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _app):
        sync = (await client.post("/v1/agents/echo/runs", json={"input": "a"})).json()
        streamed = await client.post("/v1/agents/echo/runs", json={"input": "b", "stream": True})
        stream_id = streamed.headers["x-run-id"]
        both = (await client.get("/v1/runs")).json()["runs"]
        middle = both[0]["created_at"]  # the streamed run, the newer one

        async def listed(**params: str) -> list[str]:
            response = await client.get("/v1/runs", params=params)
            assert response.status_code == 200, response.text
            return [run["run_id"] for run in response.json()["runs"]]

        by_mode = await listed(mode="stream"), await listed(mode="sync")
        by_time = await listed(since=middle), await listed(until=middle)
        naive = await client.get("/v1/runs", params={"since": "2026-01-01T00:00:00"})
        bad_mode = await client.get("/v1/runs", params={"mode": "batch"})
    assert by_mode == ([stream_id], [sync["run_id"]])
    assert by_time == ([stream_id], [sync["run_id"]])
    assert naive.status_code == 422 and bad_mode.status_code == 422
