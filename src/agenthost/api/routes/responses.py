"""``POST /v1/responses``: OpenAI's Responses API, where ``model`` names an agent."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from agenthost.api.deps import ContainerDep, RequestIdDep, RunsWriter
from agenthost.api.disconnect import unless_disconnected
from agenthost.api.openai_responses import ResponseDraft, response_frames
from agenthost.api.openai_runs import output_text, run_request, session_of_response
from agenthost.api.schemas.openai import openai_error_responses
from agenthost.api.schemas.responses import ResponseCreate, ResponseObject
from agenthost.api.sse import sse_response
from agenthost.execution.types import new_run_id

router = APIRouter(prefix="/v1", tags=["openai"])

ERROR_STATUSES = (400, 401, 403, 404, 413, 422, 429, 502, 503, 504)
"""422: the run itself was refused (a guardrail, its maximum turns or its token limit)."""
STREAM_DESCRIPTION = (
    "The response, or (with `stream: true`) OpenAI's server-sent events: `response.created`, "
    "`response.in_progress`, `response.output_item.added`, `response.content_part.added`, "
    "`response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`, "
    "`response.output_item.done`, then `response.completed` (with usage) or `response.failed`."
)


@router.post(
    "/responses",
    response_model=ResponseObject,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {}}},
        **openai_error_responses(*ERROR_STATUSES),
    },
)
async def create_response(
    body: ResponseCreate,
    request: Request,
    container: ContainerDep,
    request_id: RequestIdDep,
    principal: RunsWriter,
) -> ResponseObject | StreamingResponse:
    """Run the agent `model` names (needs the `runs:write` scope), OpenAI's way.

    A stored response (the default) keeps its conversation in a session named after the
    conversation's first response; `previous_response_id` continues it.
    """
    run_id = new_run_id()
    session_id = run_id if body.store else None
    if body.previous_response_id is not None:
        tenant_id = principal.tenant.id
        session_id = await session_of_response(container, tenant_id, body.previous_response_id)
    run = run_request(
        body.model,
        body.conversation(),
        principal,
        request_id,
        metadata=body.metadata,
        session_id=session_id,
        run_id=run_id,
    )
    draft = ResponseDraft(
        id=run_id,
        model=body.model,
        created_at=int(time.time()),
        previous_response_id=body.previous_response_id,
        store=body.store,
        metadata=run.metadata,
    )
    if body.stream:
        stream = await container.pipeline.open_stream(run)
        keepalive_s = container.settings.sse_keepalive_s
        return sse_response(stream, request_id, keepalive_s, response_frames(draft))
    outcome = await unless_disconnected(request, container.pipeline.run(run))
    return draft.response("completed", text=output_text(outcome.output), usage=outcome.usage)
