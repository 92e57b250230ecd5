"""Deciding tool calls a run stopped at: ``POST /v1/runs/{id}/approvals``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, StreamingResponse

from agenthost.api.deps import ContainerDep, RequestIdDep, RunsWriter
from agenthost.api.disconnect import unless_disconnected
from agenthost.api.routes.records import RunId
from agenthost.api.routes.runs import accepted, pending_out, run_response
from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.runs import ApprovalsIn, RunAccepted, RunResponse, UsageOut
from agenthost.api.sse import sse_response
from agenthost.execution.types import Decision
from agenthost.tenancy.ledger import recorded_usage

router = APIRouter(prefix="/v1", tags=["approvals"])

DESCRIPTION = (
    "While calls are left undecided: the run, still `awaiting_approval`, with the calls left "
    "in `pending_approvals`. Once every call is decided the run continues the way it started: "
    "the finished run (which may have stopped for approval again), or, for a streamed run, its "
    "server-sent events (as `POST /v1/agents/{agent}/runs` with `stream: true`)."
)


@router.post(
    "/runs/{run_id}/approvals",
    response_model=RunResponse,
    responses={
        200: {"description": DESCRIPTION, "content": {"text/event-stream": {}}},
        202: {"model": RunAccepted, "description": "Continued in the background: queued."},
        **problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 501, 502, 503, 504),
    },
)
async def decide(
    run_id: RunId,
    body: ApprovalsIn,
    request: Request,
    container: ContainerDep,
    request_id: RequestIdDep,
    principal: RunsWriter,
) -> RunResponse | StreamingResponse | JSONResponse:
    """Approve or reject tool calls of a run awaiting approval (needs `runs:write`)."""
    decided = await container.approvals.decide(
        principal,
        run_id,
        [Decision(d.call_id, d.approve, d.message) for d in body.decisions],
        decided_by=principal.key_id or "dev",
        can_queue=container.background is not None,
        background=body.background,
        request_id=request_id,
    )
    state = decided.state
    if state is None:
        row = decided.row
        return RunResponse(
            run_id=row.id,
            agent=row.agent,
            status="awaiting_approval",
            output=None,
            usage=UsageOut(**recorded_usage(row).as_dict()),
            cached=False,
            duration_ms=row.duration_ms or 0.0,
            request_id=request_id,
            pending_approvals=pending_out(decided.pending),
        )
    if state.mode == "background":
        await container.background_runs().continue_run(state)
        return accepted(run_id, request_id)
    if state.mode == "stream":
        return sse_response(
            container.pipeline.stream_continued(state),
            request_id,
            container.settings.sse_keepalive_s,
        )
    outcome = await unless_disconnected(request, container.pipeline.run_continued(state))
    return run_response(outcome, request_id)
