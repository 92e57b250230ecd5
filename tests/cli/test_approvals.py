"""``agenthost run`` stopping for approval, and ``agenthost runs approve|reject`` (the example
refunds agent on the offline demo model)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agenthost.cli.main import app
from agenthost.cli.run import AWAITING_APPROVAL_EXIT_CODE

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
