"""How a background run ended, as its last event and its webhook body — both built from the
run's record, the one truth about its outcome (also for a run resumed after it was settled)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from agenthost.api.errors import problem_body
from agenthost.errors import AgentHostError
from agenthost.execution.decisions import pending_of
from agenthost.execution.pipeline import approval_data, final_data
from agenthost.execution.types import RunOutcome, RunState
from agenthost.store.repositories import events
from agenthost.store.tables import RunApprovalRow, RunRow
from agenthost.tenancy.ledger import recorded_usage


def _outcome(row: RunRow) -> RunOutcome:
    return RunOutcome(
        run_id=row.id,
        agent=row.agent,
        output=row.output,
        usage=recorded_usage(row),
        duration_ms=row.duration_ms or 0.0,
        last_agent=row.last_agent or "",
        cached=row.cached,
    )


def last_event(row: RunRow) -> tuple[str, dict[str, Any]]:
    """``final`` (as a streamed run's) or ``error`` (a problem document)."""
    if row.status == "succeeded":
        return "final", final_data(_outcome(row))
    error = AgentHostError.from_record(row.error_code or "INTERNAL", row.error_message)
    return "error", problem_body(error, row.request_id) | {"run_id": row.id}


def settled_event(state: RunState, outcome: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """:func:`last_event` of the record ``state``'s settlement writes (``outcome``: its
    outcome columns), to store in the same transaction."""
    request = state.request
    return last_event(
        RunRow(id=request.run_id, agent=state.entry.name, request_id=request.request_id, **outcome)
    )


def stop_events(
    row: RunRow, stop: int, calls: Sequence[RunApprovalRow]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, type, data) of the events a run's ``stop``-th stop for approval ends with:
    ``approval_required`` with its pending calls, then ``final`` (as a streamed run's)."""
    outcome = dataclasses.replace(
        _outcome(row), status="awaiting_approval", pending=pending_of(calls)
    )
    return [
        (f"approval:{stop}", "approval_required", approval_data(outcome)),
        (events.stop_key(stop), "final", final_data(outcome)),
    ]


def webhook_body(row: RunRow) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "agent": row.agent,
        "status": row.status,
        "metadata": row.run_metadata,
        "output": row.output,
        "usage": dataclasses.asdict(recorded_usage(row)),
        "error": None
        if row.error_code is None
        else {"code": row.error_code, "message": row.error_message},
        "finished_at": row.finished_at,
    }
