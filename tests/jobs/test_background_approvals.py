"""Background runs that stop for approval: they wait holding nothing, and continue from their
stored state without repeating a model or tool call (DBOS on SQLite inside the server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.approval_agents import Refunds, build_registry, refund_request
from tests.jobs.test_background_api import BACKGROUND, _events, _record
from tests.waiting import eventually


async def _settled(client: Any, run_id: str, *statuses: str) -> dict[str, Any]:
    record: dict[str, Any] = {}

    async def reached() -> bool:
        record.update(await _record(client, run_id))
        return record["status"] in statuses

    await eventually(reached, timeout_s=20)
    return record


async def test_a_background_run_waits_then_continues_without_repeating_calls(
    agenthost_client: Any, mock_llm: Any
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), **BACKGROUND) as (client, app):
        response = await client.post(
            "/v1/agents/refunds/runs",
            json={"input": refund_request(500, 30), "background": True},
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["run_id"]
        record = await _settled(client, run_id, "awaiting_approval")
        # The call that needs no approval ran before the stop; the other waits.
        assert refunds.made == [30] and mock_llm.stats()["total_requests"] == 1
        assert app.state.container.lifecycle.in_flight == 0  # parked: nothing held
        events = await _events(client, run_id)  # the stream ends with the stop
        assert [kind for _, kind, _ in events][-2:] == ["approval_required", "final"]
        pause_end = events[-1][0]
        [pending] = events[-2][2]["pending_approvals"]  # the small refund needs none
        assert record["approvals"][0]["call_id"] == pending["call_id"]

        decided = await client.post(
            f"/v1/runs/{run_id}/approvals",
            json={"decisions": [{"call_id": pending["call_id"], "approve": True}]},
        )
        assert decided.status_code == 202, decided.text
        assert decided.json()["location"] == f"/v1/runs/{run_id}"
        record = await _settled(client, run_id, "succeeded", "failed")
        assert record["status"] == "succeeded", record["error"]
        assert record["output"] == "Result: refunded 30 on A1; refunded 500 on A0"
        assert record["usage"]["requests"] == 2
        # Each refund made once; the model called once before the stop and once after.
        assert refunds.made == [30, 500]
        assert mock_llm.stats()["total_requests"] == 2
        rest = await _events(client, run_id, **{"Last-Event-ID": str(pause_end)})
    kinds = [kind for _, kind, _ in rest]
    assert kinds[0] == "run_started" and kinds[-1] == "final", kinds
    assert kinds.count("tool_output") == 1  # the approved call's (the other's came before)
    assert rest[-1][2]["status"] == "succeeded"


async def test_a_sync_run_may_continue_in_the_background(agenthost_client: Any) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), **BACKGROUND) as (client, _):
        stopped = await client.post("/v1/agents/refunds/runs", json={"input": refund_request(700)})
        body = stopped.json()
        decided = await client.post(
            f"/v1/runs/{body['run_id']}/approvals",
            json={
                "decisions": [
                    {"call_id": body["pending_approvals"][0]["call_id"], "approve": False}
                ],
                "background": True,
            },
        )
        assert decided.status_code == 202, decided.text
        record = await _settled(client, body["run_id"], "succeeded", "failed")
    assert record["status"] == "succeeded" and record["mode"] == "background"
    assert refunds.made == []


async def test_an_expired_background_run_ends_its_event_stream(agenthost_client: Any) -> None:
    refunds = Refunds()
    registry = build_registry(refunds, approval_timeout_s=0.001)
    async with agenthost_client(registry, **BACKGROUND) as (client, app):
        response = await client.post(
            "/v1/agents/refunds/runs", json={"input": refund_request(500), "background": True}
        )
        run_id = response.json()["run_id"]
        await _settled(client, run_id, "awaiting_approval")
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert await app.state.container.ledger.sweep(now=later) == 1
        events = await _events(client, run_id)
    assert [kind for _, kind, _ in events][-3:] == ["approval_required", "final", "error"]
    assert events[-1][2]["code"] == "APPROVAL_EXPIRED"


async def test_a_background_run_of_a_session_writes_both_parts_of_its_turn_once(
    agenthost_client: Any,
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), **BACKGROUND) as (client, _):
        response = await client.post(
            "/v1/agents/refunds/runs",
            json={"input": refund_request(500), "session_id": "case-9", "background": True},
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["run_id"]
        record = await _settled(client, run_id, "awaiting_approval")
        before = (await client.get("/v1/sessions/case-9")).json()["items"]
        decided = await client.post(
            f"/v1/runs/{run_id}/approvals",
            json={"decisions": [{"call_id": record["approvals"][0]["call_id"], "approve": True}]},
        )
        assert decided.status_code == 202, decided.text
        record = await _settled(client, run_id, "succeeded", "failed")
        assert record["status"] == "succeeded", record["error"]
        items = (await client.get("/v1/sessions/case-9")).json()["items"]
    # The part before the stop was written when it stopped; the continuation adds the rest
    # (the approved call's output and the answer), each once.
    assert [item.get("role") for item in before].count("user") == 1
    assert len(items) > len(before) and items[: len(before)] == before
    kinds = [item.get("type") or item.get("role") for item in items]
    assert kinds.count("user") == 1 and kinds.count("function_call_output") == 1, kinds
    assert refunds.made == [500]
