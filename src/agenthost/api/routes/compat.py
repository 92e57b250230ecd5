"""The guide's ``POST /api/agents/execute``, with its request and response shapes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from agenthost.api.deps import ContainerDep, RequestIdDep, RunsWriter
from agenthost.api.disconnect import unless_disconnected
from agenthost.api.errors import GUIDE_ROUTE
from agenthost.api.routes.runs import ERROR_STATUSES, pending_out
from agenthost.api.schemas.compat import ExecuteRequest, ExecuteResponse
from agenthost.api.schemas.problem import problem_responses
from agenthost.execution.types import RunRequest

router = APIRouter(tags=["compatibility"])


@router.post(
    GUIDE_ROUTE,
    response_model=ExecuteResponse,
    responses=problem_responses(*ERROR_STATUSES),
)
async def execute(
    body: ExecuteRequest,
    request: Request,
    container: ContainerDep,
    request_id: RequestIdDep,
    principal: RunsWriter,
) -> ExecuteResponse:
    """Run an agent synchronously (the guide's route; `/v1/agents/{agent}/runs` is richer).

    Missing or invalid fields are 400 here, as in the guide, and errors carry its ``error``.
    """
    outcome = await unless_disconnected(
        request,
        container.pipeline.run(
            RunRequest(
                agent=body.agentName, input=body.input, principal=principal, request_id=request_id
            )
        ),
    )
    waiting = outcome.status == "awaiting_approval"
    return ExecuteResponse(
        success=True,
        output=outcome.output,
        requestId=request_id,
        executionTime=outcome.duration_ms,
        status=outcome.status,
        runId=outcome.run_id if waiting else None,
        pendingApprovals=pending_out(outcome.pending),
    )
