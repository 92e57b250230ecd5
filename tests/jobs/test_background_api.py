"""Background runs over HTTP, in the embedded shape (DBOS on SQLite inside the server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agenthost.jobs.webhook import SIGNATURE_HEADER, verify
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import run_rows, tenant_with_key, update_tenant
from tests.conftest import serving
from tests.waiting import eventually

BACKGROUND: dict[str, Any] = {
    "background_runs": True,
    "queue_poll_s": 0.02,
    "cancel_poll_s": 0.05,
    "events_poll_s": 0.02,
}
ORDER_QUESTION = "Where is order 42 shipping status?"


async def _record(client: Any, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _finished(client: Any, run_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {}

    async def done() -> bool:
        record.update(await _record(client, run_id))
        return record["status"] not in ("queued", "running")

    await eventually(done, timeout_s=20)
    return record


async def _queue(client: Any, agent: str, text: str, **extra: Any) -> str:
    response = await client.post(
        f"/v1/agents/{agent}/runs", json={"input": text, "background": True, **extra}
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


async def _events(client: Any, run_id: str, **headers: str) -> list[tuple[int, str, Any]]:
    """Every event of the run's stream until it closes: (id, type, data)."""
    events = []
    async with client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
        for block in text.strip().split("\n\n"):
            if block.startswith(":"):
                continue
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append((int(lines["id"]), lines["event"], json.loads(lines["data"])))
    return events


async def test_queued_run_succeeds_with_its_output(agenthost_client: Any) -> None:
    log = ToolLog()
    async with agenthost_client(build_registry(log), **BACKGROUND) as (client, _):
        response = await client.post(
            "/v1/agents/orders/runs", json={"input": ORDER_QUESTION, "background": True}
        )
        assert response.status_code == 202, response.text
        body = response.json()
        run_id = body["run_id"]
        assert response.headers["location"] == f"/v1/runs/{run_id}" == body["location"]
        assert body["status"] == "queued"
        record = await _finished(client, run_id)
    assert record["status"] == "succeeded", record
    assert record["mode"] == "background"
    assert "shipped" in record["output"]
    assert record["usage"]["requests"] == 2
    assert log.lookups == 1


async def test_events_stream_whole_run_and_resumes_after_last_event_id(
    agenthost_client: Any,
) -> None:
    async with agenthost_client(build_registry(ToolLog()), **BACKGROUND) as (client, _):
        run_id = await _queue(client, "orders", ORDER_QUESTION)
        events = await _events(client, run_id)
        types = [kind for _, kind, _ in events]
        assert types[0] == "run_started"
        assert types[-1] == "final"
        for kind in ("agent_updated", "tool_called", "tool_output", "text_delta"):
            assert kind in types
        assert types.index("tool_called") < types.index("tool_output") < types.index("final")
        ids = [event_id for event_id, _, _ in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert "shipped" in events[-1][2]["output"]

        resumed = await _events(client, run_id, **{"Last-Event-ID": str(ids[2])})
        assert resumed == events[3:]
        after = await client.get(f"/v1/runs/{run_id}/events", params={"after": ids[-1] + 5})
        assert after.status_code == 200


async def test_followers_see_the_tool_called_while_the_tool_runs(agenthost_client: Any) -> None:
    """Events are written in batches, but those made before a durable step (here the slow tool
    call) are stored when it begins, not only when the run ends."""
    log = ToolLog()
    registry = build_registry(log, slow_timeout_s=60)
    async with agenthost_client(registry, **BACKGROUND) as (client, _):
        run_id = await _queue(client, "reports", "Prepare a slow report about a topic")
        await asyncio.wait_for(log.slow_started.wait(), 20)
        text = ""
        async with client.stream("GET", f"/v1/runs/{run_id}/events") as response:

            async def until_tool_called() -> None:
                nonlocal text
                async for chunk in response.aiter_text():
                    text += chunk
                    if "event: tool_called" in text:
                        return

            await asyncio.wait_for(until_tool_called(), 10)
        still_running = not log.slow_cancelled.is_set()
        await client.post(f"/v1/runs/{run_id}/cancel")
        await _finished(client, run_id)
    assert still_running
    types = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    assert types == ["run_started", "agent_updated", "tool_called"]


async def test_a_queued_run_of_a_tenant_disabled_since_fails_without_running(
    agenthost_client: Any,
) -> None:
    """The process executing runs keeps tenants for auth_cache_ttl_s, but a change made in
    the same process is seen at once: the run of a tenant disabled while it was queued is
    refused before it starts."""
    log = ToolLog()
    registry = build_registry(log, slow_timeout_s=60)
    settings = BACKGROUND | {"worker_concurrency": 1, "auth_cache_ttl_s": 60}
    async with agenthost_client(registry, **settings) as (client, app):
        key = await tenant_with_key(app, "acme")

        async def queue(agent: str, text: str) -> str:
            response = await client.post(
                f"/v1/agents/{agent}/runs",
                json={"input": text, "background": True},
                headers=key.headers,
            )
            assert response.status_code == 202, response.text
            run_id: str = response.json()["run_id"]
            return run_id

        slow = await queue("reports", "Prepare a slow report about a topic")
        await asyncio.wait_for(log.slow_started.wait(), 20)
        waiting = await queue("orders", ORDER_QUESTION)  # behind the slow run (one at a time)
        await update_tenant(app, "acme", disabled=True)
        await app.state.container.background.cancel("acme", slow, None)

        async def settled() -> bool:
            rows = {row.id: row for row in await run_rows(app, "acme")}
            return rows[waiting].status not in ("queued", "running")

        await eventually(settled, timeout_s=20)
        rows = {row.id: row for row in await run_rows(app, "acme")}
    assert rows[waiting].status == "failed"
    assert rows[waiting].error_code == "FORBIDDEN"
    assert log.lookups == 0


async def test_cancel_stops_a_running_run_within_a_second(agenthost_client: Any) -> None:
    log = ToolLog()
    registry = build_registry(log, slow_timeout_s=60)
    async with agenthost_client(registry, **BACKGROUND) as (client, _):
        run_id = await _queue(client, "reports", "Prepare a slow report about a topic")
        await asyncio.wait_for(log.slow_started.wait(), 20)
        response = await client.post(f"/v1/runs/{run_id}/cancel")
        assert response.status_code == 202, response.text
        assert response.json() == {"run_id": run_id, "status": "running"}
        await asyncio.wait_for(log.slow_cancelled.wait(), 1.0)
        record = await _finished(client, run_id)
        events = await _events(client, run_id)
        again = await client.post(f"/v1/runs/{run_id}/cancel")
    assert record["status"] == "cancelled"
    assert record["error"]["code"] == "RUN_CANCELLED"
    assert record["cancel_requested"] is True
    assert events[-1][1] == "error" and events[-1][2]["code"] == "RUN_CANCELLED"
    assert again.status_code == 409


async def test_cancel_of_a_queued_run_ends_it_at_once_and_refunds_it(
    agenthost_client: Any,
) -> None:
    log = ToolLog()
    registry = build_registry(log, slow_timeout_s=60)
    async with agenthost_client(registry, worker_concurrency=1, **BACKGROUND) as (client, _):
        blocker = await _queue(client, "reports", "Prepare a slow report about a topic")
        await asyncio.wait_for(log.slow_started.wait(), 20)
        waiting = await _queue(client, "orders", ORDER_QUESTION)
        assert (await _record(client, waiting))["status"] == "queued"
        counted = (await client.get("/v1/usage")).json()["quota"]["runs_counted"]
        response = await client.post(f"/v1/runs/{waiting}/cancel")
        assert response.json() == {"run_id": waiting, "status": "cancelled"}
        assert (await _record(client, waiting))["status"] == "cancelled"
        assert (await client.get("/v1/usage")).json()["quota"]["runs_counted"] == counted - 1
        events = await _events(client, waiting)
        assert [kind for _, kind, _ in events] == ["error"]
        await client.post(f"/v1/runs/{blocker}/cancel")
        await _finished(client, blocker)
    assert log.lookups == 0


async def test_cancel_and_events_refuse_what_they_cannot_do(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog()), **BACKGROUND) as (client, _):
        sync = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
        run_id = sync.json()["run_id"]
        cancel = await client.post(f"/v1/runs/{run_id}/cancel")
        events = await client.get(f"/v1/runs/{run_id}/events")
        missing = await client.post("/v1/runs/run_nope/cancel")
        queued = await _queue(client, "echo", "hi")
        bad_resumes = [
            await client.get(f"/v1/runs/{queued}/events", headers={"Last-Event-ID": bad})
            for bad in (b"abc", "\u00b2".encode(), b"9" * 30)
        ]
        too_far = await client.get(f"/v1/runs/{queued}/events", params={"after": 2**64})
    assert cancel.status_code == 409 and cancel.json()["code"] == "CONFLICT"
    assert events.status_code == 409
    assert missing.status_code == 404 and missing.json()["code"] == "RUN_NOT_FOUND"
    assert [r.status_code for r in bad_resumes] == [422, 422, 422]
    assert too_far.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": True}, None),
        ({"session_id": "s1", "on_busy": "soon"}, "on_busy"),
        ({"webhook_url": "http://127.0.0.1:9/hook"}, "webhook_url"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"webhook_url": "http://[::1"}, "webhook_url"),
        ({"webhook_url": "http://example.com:99999/x"}, "webhook_url"),
    ],
)
async def test_background_requests_that_cannot_be_run_are_422(
    agenthost_client: Any, body: dict[str, Any], field: str | None
) -> None:
    settings = {**BACKGROUND, "webhook_signing_key": "k"}
    async with agenthost_client(build_registry(ToolLog()), **settings) as (client, _):
        response = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi", "background": True, **body}
        )
        listed = await client.get("/v1/runs")
    assert response.status_code == 422, response.text
    if field is not None:
        assert response.json()["errors"][0]["field"].endswith(field)
    assert listed.json()["runs"] == []


async def test_background_runs_turned_off_are_501(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, _):
        response = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi", "background": True}
        )
    assert response.status_code == 501
    assert response.json()["code"] == "NOT_IMPLEMENTED"


async def test_webhook_is_delivered_signed_once(agenthost_client: Any) -> None:
    received: list[tuple[bytes, str]] = []
    delivered = asyncio.Event()

    async def hook(request: Request) -> Response:
        received.append((await request.body(), request.headers[SIGNATURE_HEADER]))
        delivered.set()
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    settings = {**BACKGROUND, "webhook_signing_key": "s3cret", "webhook_allow_private": True}
    async with (
        serving(receiver) as hook_url,
        agenthost_client(build_registry(ToolLog()), **settings) as (client, _),
    ):
        run_id = await _queue(client, "orders", ORDER_QUESTION, webhook_url=f"{hook_url}/hook")
        await asyncio.wait_for(delivered.wait(), 20)
        await _finished(client, run_id)
    assert len(received) == 1
    body, signature = received[0]
    assert verify(b"s3cret", signature, body)
    assert not verify(b"other", signature, body)
    payload = json.loads(body)
    assert payload["run_id"] == run_id and payload["status"] == "succeeded"
    assert "shipped" in payload["output"]
