"""Tool approval over real HTTP: runs stop at calls that need a decision and continue after it
(agenthost in front of the mock LLM, itself a separate process)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from agenthost.store.tables import RunPauseRow
from tests.api.approval_agents import Refunds, build_registry, refund_request
from tests.api.tenants import tenant_with_key
from tests.waiting import eventually


async def _stop(client: Any, *amounts: int, **headers: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/agents/refunds/runs", json={"input": refund_request(*amounts)}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "awaiting_approval", body
    return body


async def _decide(client: Any, run_id: str, *decisions: dict[str, Any], **extra: Any) -> Any:
    return await client.post(
        f"/v1/runs/{run_id}/approvals", json={"decisions": list(decisions), **extra}
    )


async def test_a_run_stops_for_approval_then_continues_once_approved(
    agenthost_client: Any, mock_llm: Any
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        stopped = await _stop(client, 500)
        [call] = stopped["pending_approvals"]
        assert call["tool"] == "refund" and call["agent"] == "refunds"
        assert json.loads(call["arguments"]) == {"order_id": "A0", "amount": 500}
        assert stopped["output"] is None and stopped["usage"]["requests"] == 1
        assert refunds.made == []  # nothing ran before the decision
        record = (await client.get(f"/v1/runs/{stopped['run_id']}")).json()
        assert record["status"] == "awaiting_approval" and record["finished_at"] is None
        assert record["approval_expires_at"] is not None
        assert [a["status"] for a in record["approvals"]] == ["pending"]

        response = await _decide(
            client, stopped["run_id"], {"call_id": call["call_id"], "approve": True}
        )
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["status"] == "succeeded" and done["pending_approvals"] == []
        assert done["output"] == "Result: refunded 500 on A0"
        assert done["usage"]["requests"] == 2  # usage adds up across the stop
        assert refunds.made == [500]
        assert mock_llm.stats()["total_requests"] == 2

        record = (await client.get(f"/v1/runs/{stopped['run_id']}")).json()
        assert record["status"] == "succeeded" and record["usage"]["requests"] == 2
        [approval] = record["approvals"]
        assert approval["status"] == "approved" and approval["decided_by"] == "dev"
        assert approval["decided_at"] is not None and record["approval_expires_at"] is None
        again = await _decide(
            client, stopped["run_id"], {"call_id": call["call_id"], "approve": True}
        )
        assert again.status_code == 409, again.text


async def test_a_rejection_reaches_the_model_with_its_reason(agenthost_client: Any) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        stopped = await _stop(client, 900)
        call_id = stopped["pending_approvals"][0]["call_id"]
        reason = "over the monthly refund budget"
        response = await _decide(
            client, stopped["run_id"], {"call_id": call_id, "approve": False, "message": reason}
        )
        assert response.status_code == 200, response.text
        assert response.json()["output"] == f"Result: {reason}"
        assert refunds.made == []
        [approval] = (await client.get(f"/v1/runs/{stopped['run_id']}")).json()["approvals"]
        assert approval["status"] == "rejected" and approval["message"] == reason


async def test_small_refunds_need_no_approval(agenthost_client: Any) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        response = await client.post("/v1/agents/refunds/runs", json={"input": refund_request(20)})
    assert response.json()["status"] == "succeeded" and refunds.made == [20]


async def test_partial_decisions_keep_the_run_waiting(agenthost_client: Any) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        stopped = await _stop(client, 300, 400)
        first, second = (call["call_id"] for call in stopped["pending_approvals"])
        response = await _decide(client, stopped["run_id"], {"call_id": first, "approve": True})
        assert response.status_code == 200, response.text
        waiting = response.json()
        assert waiting["status"] == "awaiting_approval"
        assert [c["call_id"] for c in waiting["pending_approvals"]] == [second]
        assert refunds.made == []
        twice = await _decide(client, stopped["run_id"], {"call_id": first, "approve": False})
        assert twice.status_code == 409 and twice.json()["code"] == "CONFLICT"
        unknown = await _decide(
            client, stopped["run_id"], {"call_id": "call_nope", "approve": True}
        )
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["code"] == "VALIDATION_ERROR"

        response = await _decide(client, stopped["run_id"], {"call_id": second, "approve": False})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "succeeded"
    assert refunds.made == [300]


async def test_concurrent_decisions_continue_the_run_exactly_once(
    agenthost_client: Any, mock_llm: Any
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        stopped = await _stop(client, 300, 400)
        calls = [call["call_id"] for call in stopped["pending_approvals"]]
        # Every call decided by three requests at once: one decision per call wins.
        requests = [
            _decide(client, stopped["run_id"], {"call_id": call_id, "approve": True})
            for call_id in calls
            for _ in range(3)
        ]
        responses = await asyncio.gather(*requests)
        codes = sorted(response.status_code for response in responses)
        assert codes.count(200) == 2 and codes.count(409) == 4, [r.text for r in responses]
        finished = [r.json() for r in responses if r.status_code == 200]
        assert sorted(body["status"] for body in finished) == ["awaiting_approval", "succeeded"]
        record = (await client.get(f"/v1/runs/{stopped['run_id']}")).json()
    assert record["status"] == "succeeded"
    assert sorted(refunds.made) == [300, 400]
    assert mock_llm.stats()["total_requests"] == 2


async def test_a_streamed_run_ends_with_approval_required_then_final(
    agenthost_client: Any,
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        response = await client.post(
            "/v1/agents/refunds/runs", json={"input": refund_request(250), "stream": True}
        )
        events = _events(response.text)
        kinds = [kind for kind, _ in events]
        assert kinds[-2:] == ["approval_required", "final"], kinds
        required, final = events[-2][1], events[-1][1]
        assert final["status"] == "awaiting_approval" and final["output"] is None
        [call] = required["pending_approvals"]
        assert refunds.made == []

        response = await _decide(
            client, required["run_id"], {"call_id": call["call_id"], "approve": True}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "run_started" and kinds[-1] == "final" and "tool_output" in kinds
    assert events[-1][1]["status"] == "succeeded"
    assert events[-1][1]["output"] == "Result: refunded 250 on A0"
    assert refunds.made == [250]


async def test_decisions_are_refused_clearly(agenthost_client: Any) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), dev_mode=False) as (client, app):
        a = await tenant_with_key(app, "tenant-a")
        b = await tenant_with_key(app, "tenant-b")
        reader = await tenant_with_key(app, "tenant-r", "runs:read")
        stopped = await _stop(client, 500, **a.headers)
        run_id = stopped["run_id"]
        decision = {
            "decisions": [{"call_id": stopped["pending_approvals"][0]["call_id"], "approve": True}]
        }
        url = f"/v1/runs/{run_id}/approvals"

        other = await client.post(url, json=decision, headers=b.headers)
        assert other.status_code == 404 and other.json()["code"] == "RUN_NOT_FOUND"
        forbidden = await client.post(url, json=decision, headers=reader.headers)
        assert forbidden.status_code == 403
        empty = await client.post(url, json={"decisions": []}, headers=a.headers)
        assert empty.status_code == 422
        bad = await client.post(url, json={"decisions": [{"call_id": "x"}]}, headers=a.headers)
        assert bad.status_code == 422
        done = await client.post(url, json=decision, headers=a.headers)
        assert done.status_code == 200 and done.json()["status"] == "succeeded"
        assert (await client.get(f"/v1/runs/{run_id}", headers=a.headers)).json()["approvals"][0][
            "decided_by"
        ] == a.id
        finished = await client.post(url, json=decision, headers=a.headers)
        assert finished.status_code == 409 and "succeeded" in finished.json()["detail"]
        missing = await client.post("/v1/runs/run_nope/approvals", json=decision, headers=a.headers)
        assert missing.status_code == 404


async def test_a_state_over_the_limit_fails_the_run_with_413(agenthost_client: Any) -> None:
    refunds = Refunds()
    registry = build_registry(refunds)
    async with agenthost_client(registry, approval_state_max_bytes=1024) as (client, _):
        response = await client.post("/v1/agents/refunds/runs", json={"input": refund_request(500)})
        assert response.status_code == 413, response.text
        body = response.json()
        assert body["code"] == "PAYLOAD_TOO_LARGE"
        record = (await client.get(f"/v1/runs/{body['run_id']}")).json()
    assert record["status"] == "failed" and record["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert record["approvals"] == []


def _events(raw: str) -> list[tuple[str, Any]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_undecided_runs_expire_and_lose_their_state(agenthost_client: Any) -> None:
    refunds = Refunds()
    # A millisecond: the run's approvals have expired by the time anyone decides.
    registry = build_registry(refunds, approval_timeout_s=0.001)
    async with agenthost_client(registry) as (client, app):
        stopped = await _stop(client, 500)
        run_id, call_id = stopped["run_id"], stopped["pending_approvals"][0]["call_id"]
        late = await _decide(client, run_id, {"call_id": call_id, "approve": True})
        assert late.status_code == 409 and late.json()["code"] == "APPROVAL_EXPIRED"
        container = app.state.container
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert await container.ledger.sweep(now=later) == 1
        assert await container.ledger.sweep(now=later) == 0
        record = (await client.get(f"/v1/runs/{run_id}")).json()
        assert record["status"] == "expired" and record["error"]["code"] == "APPROVAL_EXPIRED"
        assert record["approvals"][0]["status"] == "expired"
        assert record["finished_at"] is not None and record["approval_expires_at"] is None
        async with container.db.transaction(read_only=True) as tx:
            assert await tx.get(RunPauseRow, run_id) is None  # its state is deleted
        again = await _decide(client, run_id, {"call_id": call_id, "approve": True})
        assert again.status_code == 409 and again.json()["code"] == "APPROVAL_EXPIRED"
        listed = (await client.get("/v1/runs", params={"status": "expired"})).json()["runs"]
        assert [run["run_id"] for run in listed] == [run_id]
    assert refunds.made == []


async def test_the_wait_follows_the_agents_policy_else_the_setting(
    agenthost_client: Any,
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), approval_timeout_s=600) as (client, _):
        stopped = await _stop(client, 500)
        record = (await client.get(f"/v1/runs/{stopped['run_id']}")).json()
        created = datetime.fromisoformat(record["created_at"])
        expires = datetime.fromisoformat(record["approval_expires_at"])
        assert timedelta(seconds=599) < expires - created < timedelta(seconds=660)


async def test_a_waiting_run_holds_no_slot_and_a_failed_continuation_keeps_its_record(
    agenthost_client: Any, mock_llm: Any
) -> None:
    refunds = Refunds()
    settings = {"dev_mode": False, "retry_max_attempts": 1}
    async with agenthost_client(build_registry(refunds), **settings) as (client, app):
        key = await tenant_with_key(app, "tenant-a", max_concurrent_runs=1)
        first = await _stop(client, 500, **key.headers)
        second = await _stop(client, 600, **key.headers)  # the first one holds no slot
        mock_llm.queue_faults({"kind": "500", "times": 1})
        call_id = first["pending_approvals"][0]["call_id"]
        failed = await client.post(
            f"/v1/runs/{first['run_id']}/approvals",
            json={"decisions": [{"call_id": call_id, "approve": True}]},
            headers=key.headers,
        )
        assert failed.status_code == 503, failed.text
        assert failed.json()["code"] == "UPSTREAM_UNAVAILABLE"
        record = (await client.get(f"/v1/runs/{first['run_id']}", headers=key.headers)).json()
        assert record["status"] == "failed" and record["error"]["code"] == "UPSTREAM_UNAVAILABLE"
        [approval] = record["approvals"]  # the decision is kept with the failed run
        assert approval["status"] == "approved" and approval["decided_by"] == key.id
        assert record["usage"]["requests"] == 1
        assert refunds.made == [500]  # the approved call ran once; the model then failed
        async with app.state.container.db.transaction(read_only=True) as tx:
            assert await tx.get(RunPauseRow, first["run_id"]) is None
        # The failed continuation gave its slot back: the other run continues.
        call_id = second["pending_approvals"][0]["call_id"]
        done = await client.post(
            f"/v1/runs/{second['run_id']}/approvals",
            json={"decisions": [{"call_id": call_id, "approve": True}]},
            headers=key.headers,
        )
        assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text


async def test_a_continuation_refused_at_admission_records_no_decision(
    agenthost_client: Any, mock_llm: Any
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds), dev_mode=False) as (client, app):
        key = await tenant_with_key(app, "tenant-a", max_concurrent_runs=1)
        stopped = await _stop(client, 500, **key.headers)
        url = f"/v1/runs/{stopped['run_id']}/approvals"
        decision = {
            "decisions": [{"call_id": stopped["pending_approvals"][0]["call_id"], "approve": True}]
        }
        busy = asyncio.create_task(
            client.post(
                "/v1/agents/refunds/runs", json={"input": "[[sleep:1500]] hi"}, headers=key.headers
            )
        )
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)  # it holds the slot
        refused = await client.post(url, json=decision, headers=key.headers)
        assert refused.status_code == 429 and refused.json()["code"] == "QUOTA_EXCEEDED"
        record = (await client.get(f"/v1/runs/{stopped['run_id']}", headers=key.headers)).json()
        assert record["status"] == "awaiting_approval"
        assert record["approvals"][0]["status"] == "pending"  # nothing was recorded
        assert (await busy).status_code == 200
        done = await client.post(url, json=decision, headers=key.headers)
        assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text
    assert refunds.made == [500]


async def test_a_run_with_a_session_continues_it_without_writing_a_turn_twice(
    agenthost_client: Any,
) -> None:
    refunds = Refunds()
    async with agenthost_client(build_registry(refunds)) as (client, _):
        text = refund_request(500)
        response = await client.post(
            "/v1/agents/refunds/runs", json={"input": text, "session_id": "case-7"}
        )
        stopped = response.json()
        assert stopped["status"] == "awaiting_approval", stopped
        call_id = stopped["pending_approvals"][0]["call_id"]
        done = await _decide(client, stopped["run_id"], {"call_id": call_id, "approve": True})
        assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text
        items = (await client.get("/v1/sessions/case-7")).json()["items"]
    users = [item for item in items if item.get("role") == "user"]
    calls = [item for item in items if item.get("type") == "function_call"]
    outputs = [item for item in items if item.get("type") == "function_call_output"]
    assert len(users) == 1 and len(calls) == 1 and len(outputs) == 1, items
    assert refunds.made == [500]


async def test_the_guides_route_says_when_a_run_awaits_approval(agenthost_client: Any) -> None:
    async with agenthost_client(build_registry(Refunds())) as (client, _):
        response = await client.post(
            "/api/agents/execute", json={"agentName": "refunds", "input": refund_request(500)}
        )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "awaiting_approval"
    assert body["runId"].startswith("run_") and body["pendingApprovals"][0]["tool"] == "refund"
