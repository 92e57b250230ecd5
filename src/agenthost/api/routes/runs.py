"""Agents and runs: ``GET /v1/agents``, ``POST /v1/agents/{agent}/runs``."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import StreamingResponse

from agenthost.api.deps import ContainerDep, RequestIdDep
from agenthost.api.errors import PROBLEM_JSON
from agenthost.api.schemas.runs import AgentList, AgentOut, RunCreate, RunResponse, UsageOut
from agenthost.api.sse import sse_response
from agenthost.errors import NotImplementedFeature
from agenthost.execution.types import RunRequest

router = APIRouter(prefix="/v1", tags=["runs"])

AgentName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The finished run, or (with `stream: true`) server-sent events: "
        "`run_started`, `text_delta`, `tool_called`, `tool_output`, `handoff`, "
        "`agent_updated`, then `final` or `error`.",
        "content": {"text/event-stream": {}},
    },
    400: {"description": "The body is not JSON", **_PROBLEM},
    404: {"description": "Unknown agent", **_PROBLEM},
    413: {"description": "Body too large", **_PROBLEM},
    422: {"description": "Invalid field", **_PROBLEM},
    501: {"description": "Sessions and background runs are not available yet", **_PROBLEM},
    502: {"description": "The model service rejected the call", **_PROBLEM},
    503: {"description": "Shutting down, model unavailable or circuit open", **_PROBLEM},
    504: {"description": "The run exceeded its deadline", **_PROBLEM},
}


@router.get("/agents", response_model=AgentList)
async def list_agents(container: ContainerDep) -> AgentList:
    settings = container.settings
    return AgentList(
        agents=[
            AgentOut(
                name=entry.name,
                description=entry.policy.description,
                version=entry.version,
                timeout_s=entry.policy.timeout_s or settings.run_timeout_s,
                max_turns=entry.policy.max_turns or settings.max_turns,
                cacheable=entry.policy.cacheable,
            )
            for entry in container.registry
        ]
    )


@router.post("/agents/{agent}/runs", response_model=RunResponse, responses=RUN_RESPONSES)
async def create_run(
    agent: AgentName, body: RunCreate, container: ContainerDep, request_id: RequestIdDep
) -> RunResponse | StreamingResponse:
    if body.background:
        raise NotImplementedFeature("background runs are not available in this version")
    run_request = RunRequest(
        agent=agent,
        input=body.input,
        session_id=body.session_id,
        metadata=body.metadata,
        request_id=request_id,
    )
    if body.stream:
        return sse_response(container.pipeline.open_stream(run_request), request_id)
    outcome = await container.pipeline.run(run_request)
    return RunResponse(
        run_id=outcome.run_id,
        agent=outcome.agent,
        output=outcome.output,
        usage=UsageOut(**dataclasses.asdict(outcome.usage)),
        cached=outcome.cached,
        duration_ms=outcome.duration_ms,
        request_id=request_id,
    )
