"""``POST /v1/chat/completions``: OpenAI's Chat Completions API, where ``model`` names an
agent."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from agenthost.api.deps import ContainerDep, RequestIdDep, RunsWriter
from agenthost.api.disconnect import unless_disconnected
from agenthost.api.openai_chat import CompletionDraft, chunk_frames
from agenthost.api.openai_runs import run_request
from agenthost.api.routes.responses import ERROR_STATUSES
from agenthost.api.schemas.chat import ChatCompletion, ChatCompletionCreate
from agenthost.api.schemas.openai import openai_error_responses
from agenthost.api.sse import sse_response
from agenthost.execution.types import new_run_id

router = APIRouter(prefix="/v1", tags=["openai"])

STREAM_DESCRIPTION = (
    "The completion, or (with `stream: true`) `chat.completion.chunk` objects as server-sent "
    "events (the last with `finish_reason: stop`; with `stream_options.include_usage`, then "
    'one with the usage), ending with `data: [DONE]`; a failure is a `data: {"error": …}`.'
)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {}}},
        **openai_error_responses(*ERROR_STATUSES),
    },
)
async def create_chat_completion(
    body: ChatCompletionCreate,
    request: Request,
    container: ContainerDep,
    request_id: RequestIdDep,
    principal: RunsWriter,
) -> ChatCompletion | StreamingResponse:
    """Run the agent `model` names on the conversation (needs `runs:write`), OpenAI's way.

    Stateless, as Chat Completions are: the whole conversation comes with every request.
    """
    run = run_request(
        body.model,
        body.conversation(),
        principal,
        request_id,
        run_id=new_run_id(),
        metadata=body.metadata,
    )
    draft = CompletionDraft(id=run.run_id, model=body.model, created=int(time.time()))
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        stream = await container.pipeline.open_stream(run)
        keepalive_s = container.settings.sse_keepalive_s
        return sse_response(stream, request_id, keepalive_s, chunk_frames(draft, include_usage))
    outcome = await unless_disconnected(request, container.pipeline.run(run))
    return draft.completion(outcome)
