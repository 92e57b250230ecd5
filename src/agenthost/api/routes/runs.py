"""Agents and runs: ``GET /v1/agents``, ``POST /v1/agents/{agent}/runs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import JSONResponse, StreamingResponse

from agenthost.api.deps import ContainerDep, PrincipalDep, RequestIdDep, RunsWriter
from agenthost.api.disconnect import unless_disconnected
from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.runs import (
    AgentList,
    AgentOut,
    PendingApprovalOut,
    RunAccepted,
    RunCreate,
    RunResponse,
    UsageOut,
)
from agenthost.api.sse import sse_response
from agenthost.container import Container
from agenthost.execution.admission import run_limits
from agenthost.execution.types import PendingCall, RunOutcome, RunRequest
from agenthost.registry import handoff_names, needs_approval

router = APIRouter(prefix="/v1", tags=["runs"])

AgentName = Annotated[str, Path(description="A registered agent's name (`GET /v1/agents`).")]

ERROR_STATUSES = (400, 401, 403, 404, 413, 422, 429, 501, 502, 503, 504)
STREAM_DESCRIPTION = (
    "The finished run (or, `status: awaiting_approval`, stopped at tool calls that need a "
    "decision), or (with `stream: true`) server-sent events: `run_started`, `text_delta`, "
    "`tool_called`, `tool_output`, `handoff`, `agent_updated`, `approval_required` (when it "
    "stops for approval), then `final` or `error` (whose data is a problem document)."
)


@router.get("/agents", response_model=AgentList, responses=problem_responses(401, 403, 429))
async def list_agents(container: ContainerDep, principal: PrincipalDep) -> AgentList:
    """The agents the caller's tenant may run, with its limits for each."""
    tenant = principal.tenant
    agents = []
    for entry in container.registry:
        if not tenant.may_use(entry.name):
            continue
        limits = run_limits(entry, tenant, container.settings)
        agents.append(
            AgentOut(
                name=entry.name,
                description=entry.policy.description,
                version=entry.version,
                timeout_s=limits.timeout_s,
                max_turns=limits.max_turns,
                tokens_per_run=limits.token_limit,
                cacheable=entry.policy.cacheable,
                tools=[tool.name for tool in entry.agent.tools],
                handoffs=handoff_names(entry.agent),
                needs_approval=needs_approval(entry.agent),
            )
        )
    return AgentList(agents=agents)


@router.post(
    "/agents/{agent}/runs",
    response_model=RunResponse,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {}}},
        202: {"model": RunAccepted, "description": "With `background: true`: queued."},
        **problem_responses(*ERROR_STATUSES),
    },
)
async def create_run(
    agent: AgentName,
    body: RunCreate,
    request: Request,
    container: ContainerDep,
    request_id: RequestIdDep,
    principal: RunsWriter,
) -> RunResponse | StreamingResponse | JSONResponse:
    """Run an agent (needs the `runs:write` scope)."""
    run_request = RunRequest(
        agent=agent,
        input=body.conversation(),
        principal=principal,
        session_id=body.session_id,
        on_busy=body.on_busy,
        metadata=body.metadata,
        request_id=request_id,
    )
    if body.background:
        return await _queue(container, run_request, body.webhook_url)
    if body.stream:
        return sse_response(
            await container.pipeline.open_stream(run_request),
            request_id,
            container.settings.sse_keepalive_s,
        )
    outcome = await unless_disconnected(request, container.pipeline.run(run_request))
    return run_response(outcome, request_id)


def pending_out(calls: Sequence[PendingCall]) -> list[PendingApprovalOut]:
    return [PendingApprovalOut(**call.as_dict()) for call in calls]


def run_response(outcome: RunOutcome, request_id: str | None) -> RunResponse:
    return RunResponse(
        run_id=outcome.run_id,
        agent=outcome.agent,
        status=outcome.status,
        output=outcome.output,
        usage=UsageOut(**outcome.usage.as_dict()),
        cached=outcome.cached,
        duration_ms=outcome.duration_ms,
        request_id=request_id,
        pending_approvals=pending_out(outcome.pending),
    )


async def _queue(
    container: Container, run_request: RunRequest, webhook_url: str | None
) -> JSONResponse:
    container.registry.get(run_request.agent)  # an unknown agent is 404 before anything else
    run_id = await container.background_runs().submit(run_request, webhook_url)
    return accepted(run_id, run_request.request_id)


def accepted(run_id: str, request_id: str | None) -> JSONResponse:
    """202: the run is queued."""
    location = f"/v1/runs/{run_id}"
    body = RunAccepted(
        run_id=run_id,
        status="queued",
        location=location,
        events=f"{location}/events",
        request_id=request_id,
    )
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": location})
