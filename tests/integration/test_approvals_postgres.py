"""Tool approval on PostgreSQL: stopping, concurrent decisions (row lock and conditional
writes), continuing, and expiry, over real HTTP against the mock LLM."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.approval_agents import Refunds, build_registry, refund_request

pytestmark = pytest.mark.integration


async def test_decisions_are_exact_on_postgres(
    agenthost_client: Any, mock_llm: Any, migrated_postgres: str
) -> None:
    refunds = Refunds()
    registry = build_registry(refunds)
    async with agenthost_client(registry, database_url=migrated_postgres) as (client, app):
        stopped = (
            await client.post(
                "/v1/agents/refunds/runs", json={"input": refund_request(300, 400, 500)}
            )
        ).json()
        assert stopped["status"] == "awaiting_approval", stopped
        run_id = stopped["run_id"]
        calls = [call["call_id"] for call in stopped["pending_approvals"]]
        assert len(calls) == 3
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/v1/runs/{run_id}/approvals",
                    json={"decisions": [{"call_id": call_id, "approve": True}]},
                )
                for call_id in calls
                for _ in range(4)
            )
        )
        codes = [response.status_code for response in responses]
        assert codes.count(200) == 3 and codes.count(409) == 9, [r.text for r in responses]
        statuses = sorted(r.json()["status"] for r in responses if r.status_code == 200)
        assert statuses == ["awaiting_approval", "awaiting_approval", "succeeded"]
        record = (await client.get(f"/v1/runs/{run_id}")).json()
        assert record["status"] == "succeeded" and record["usage"]["requests"] == 2
        assert sorted(refunds.made) == [300, 400, 500]
        assert mock_llm.stats()["total_requests"] == 2

        waiting = (
            await client.post("/v1/agents/refunds/runs", json={"input": refund_request(900)})
        ).json()
        ledger = app.state.container.ledger
        later = datetime.now(UTC) + timedelta(days=2)
        assert await ledger.sweep(now=later) == 1
        expired = (await client.get(f"/v1/runs/{waiting['run_id']}")).json()
    assert expired["status"] == "expired" and expired["approvals"][0]["status"] == "expired"
