"""How a background run ended, as its last event and its webhook body — both built from the
run's record, the one truth about its outcome (also for a run resumed after it was settled)."""

from __future__ import annotations

import dataclasses
from typing import Any

from agenthost.api.errors import problem_body
from agenthost.errors import AgentHostError
from agenthost.execution.pipeline import final_data
from agenthost.execution.types import RunOutcome, RunUsage
from agenthost.store.tables import RunRow


def _usage(row: RunRow) -> RunUsage:
    return RunUsage(
        requests=row.requests,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        total_tokens=row.total_tokens,
    )


def last_event(row: RunRow) -> tuple[str, dict[str, Any]]:
    """``final`` (as a streamed run's) or ``error`` (a problem document)."""
    if row.status == "succeeded":
        outcome = RunOutcome(
            run_id=row.id,
            agent=row.agent,
            output=row.output,
            usage=_usage(row),
            duration_ms=row.duration_ms or 0.0,
            last_agent=row.last_agent or "",
            cached=row.cached,
        )
        return "final", final_data(outcome)
    error = AgentHostError.from_record(row.error_code or "INTERNAL", row.error_message)
    return "error", problem_body(error, row.request_id) | {"run_id": row.id}


def webhook_body(row: RunRow) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "agent": row.agent,
        "status": row.status,
        "metadata": row.run_metadata,
        "output": row.output,
        "usage": dataclasses.asdict(_usage(row)),
        "error": None
        if row.error_code is None
        else {"code": row.error_code, "message": row.error_message},
        "finished_at": row.finished_at,
    }
