"""The guide's ``POST /api/agents/execute``, with its request and response shapes."""

from __future__ import annotations

from fastapi import APIRouter

from agenthost.api.deps import ContainerDep, RequestIdDep
from agenthost.api.routes.runs import RUN_RESPONSES
from agenthost.api.schemas.compat import ExecuteRequest, ExecuteResponse
from agenthost.errors import ValidationFailed
from agenthost.execution.types import RunRequest

router = APIRouter(tags=["compatibility"])


class MissingFields(ValidationFailed):
    """The guide answers missing fields with 400 (the v1 routes use 422)."""

    status, title = 400, "Missing required fields"


@router.post(
    "/api/agents/execute",
    response_model=ExecuteResponse,
    responses={k: v for k, v in RUN_RESPONSES.items() if k != 200},
)
async def execute(
    body: ExecuteRequest, container: ContainerDep, request_id: RequestIdDep
) -> ExecuteResponse:
    """Run an agent synchronously (the guide's route; `/v1/agents/{agent}/runs` is richer)."""
    if not body.agentName or not body.input:
        missing = [name for name in ("agentName", "input") if not getattr(body, name)]
        raise MissingFields(f"Missing required fields: {', '.join(missing)}")
    outcome = await container.pipeline.run(
        RunRequest(agent=body.agentName, input=body.input, request_id=request_id)
    )
    return ExecuteResponse(
        success=True,
        output=outcome.output,
        requestId=request_id,
        executionTime=outcome.duration_ms,
    )
