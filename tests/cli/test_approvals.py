"""``agenthost run`` stopping for approval, and ``agenthost runs approve|reject`` (the example
refunds agent on the offline demo model)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from agenthost.cli.main import app
from agenthost.cli.run import AWAITING_APPROVAL_EXIT_CODE
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, agenthost_command, agenthost_env, wait_ready

BIG_REFUND = 'Refund please [[tool:refund {"order_id": "A1", "amount": 500}]]'


def _stopped() -> tuple[str, str]:
    result = CliRunner().invoke(app, ["run", "refunds", BIG_REFUND, "--json"])
    assert result.exit_code == AWAITING_APPROVAL_EXIT_CODE, result.output
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "awaiting_approval" and outcome["output"] is None
    [call] = outcome["pending"]
    assert call["tool"] == "refund" and json.loads(call["arguments"])["amount"] == 500
    return outcome["run_id"], call["call_id"]


def test_run_prints_the_pending_calls_and_approve_continues_it() -> None:
    shown = CliRunner().invoke(app, ["run", "refunds", BIG_REFUND])
    assert shown.exit_code == AWAITING_APPROVAL_EXIT_CODE
    assert "is awaiting approval of:" in shown.stdout and "refunds.refund(" in shown.stdout
    run_id, call_id = _stopped()
    approved = CliRunner().invoke(app, ["runs", "approve", run_id, call_id])
    assert approved.exit_code == 0, approved.output
    assert "Result: refunded 500 EUR on order A1" in approved.stdout
    again = CliRunner().invoke(app, ["runs", "approve", run_id, call_id])
    assert again.exit_code == 1 and "CONFLICT" in again.stderr


def test_reject_sends_the_reason_to_the_model() -> None:
    run_id, call_id = _stopped()
    unknown = CliRunner().invoke(app, ["runs", "approve", run_id, "call_nope"])
    assert unknown.exit_code == 1 and "VALIDATION_ERROR" in unknown.stderr
    rejected = CliRunner().invoke(
        app, ["runs", "reject", run_id, call_id, "--message", "needs a manager", "--json"]
    )
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.stdout)["output"] == "Result: needs a manager"


@pytest.mark.integration
async def test_decisions_from_the_command_line_beside_a_serving_process(
    servers: Servers, mock_llm: MockLLMServer, tmp_path: Path
) -> None:
    """``runs approve`` only queues background continuations: it is no executor, so it runs
    beside ``agenthost serve`` on the same database with the same executor id."""
    shared = {
        "database_url": f"sqlite:///{tmp_path / 'agenthost.db'}",
        "agents": "examples.registry:registry",
        "background_runs": "true",
    }
    env = agenthost_env(mock_llm, **shared)
    assert agenthost_command(env, "db", "upgrade").returncode == 0
    process, url = servers.start(**shared)
    async with httpx2.AsyncClient(base_url=url) as client:
        await wait_ready(client, process)
    stopped = await asyncio.to_thread(
        agenthost_command, env, "run", "refunds", BIG_REFUND, "--json"
    )
    assert stopped.returncode == AWAITING_APPROVAL_EXIT_CODE, stopped.stderr
    outcome = json.loads(stopped.stdout)
    [call] = outcome["pending"]
    approved = await asyncio.to_thread(
        agenthost_command, env, "runs", "approve", outcome["run_id"], call["call_id"]
    )
    assert approved.returncode == 0, approved.stderr
    assert "refunded 500 EUR on order A1" in approved.stdout
