"""The mock LLM Starlette app: OpenAI-compatible model endpoints plus the admin API."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .admin import admin_routes, bad_request
from .brain import last_user_text, respond
from .chat import brain_request_from_chat, completion_chunks, completion_json
from .config import MockLLMConfig
from .conversation import BrainRequest
from .delivery import Delivery, DeliveryResponse, sse_message
from .markers import find_sleep_ms
from .response_output import build_response
from .responses import brain_request_from_body, response_json, response_sse
from .state import MockLLMState, state_of
from .stats import StatsMiddleware

logger = logging.getLogger(__name__)


def create_mock_llm_app(config: MockLLMConfig | None = None) -> Starlette:
    """A fresh mock LLM app; its ``MockLLMState`` is at ``app.state.mock_llm``."""
    state = MockLLMState(config or MockLLMConfig())
    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        *admin_routes(),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(StatsMiddleware, stats=state.stats)])
    app.state.mock_llm = state
    return app


async def list_models(request: Request) -> Response:
    models = state_of(request).config.models
    data = [
        {"id": m, "object": "model", "created": 0, "owned_by": "agenthost-mock"} for m in models
    ]
    return JSONResponse({"object": "list", "data": data})


async def chat_completions(request: Request) -> Response:
    state = state_of(request)
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    try:
        brain_request = brain_request_from_chat(body)
    except ValueError as exc:
        return bad_request(str(exc))
    reply = respond(brain_request, reply_prefix=state.config.reply_prefix)
    completion_id, model, created = (
        f"chatcmpl-{uuid.uuid4().hex}",
        _model_name(body, state),
        int(time.time()),
    )
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
        chunks = completion_chunks(
            reply,
            completion_id=completion_id,
            model=model,
            created=created,
            include_usage=include_usage,
        )
        messages = [sse_message(chunk) for chunk in chunks] + [sse_message("[DONE]")]
        return _deliver(state, brain_request, streamed=True, chunks=messages)
    payload = completion_json(reply, completion_id=completion_id, model=model, created=created)
    return _deliver(state, brain_request, streamed=False, body=json.dumps(payload).encode())


async def responses(request: Request) -> Response:
    state = state_of(request)
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    try:
        brain_request = brain_request_from_body(body)
    except ValueError as exc:
        return bad_request(str(exc))
    reply = respond(brain_request, reply_prefix=state.config.reply_prefix)
    response = build_response(
        reply,
        response_id=f"resp_{uuid.uuid4().hex}",
        model=_model_name(body, state),
        created_at=int(time.time()),
    )
    if body.get("stream") is True:
        return _deliver(state, brain_request, streamed=True, chunks=response_sse(response))
    encoded = json.dumps(response_json(response)).encode()
    return _deliver(state, brain_request, streamed=False, body=encoded)


def _deliver(
    state: MockLLMState,
    brain_request: BrainRequest,
    *,
    streamed: bool,
    body: bytes = b"",
    chunks: Sequence[bytes] = (),
) -> Response:
    user_text = last_user_text(brain_request.items)
    fault = state.faults.next_fault(user_text)
    if fault is not None:
        state.stats.faults[fault.kind] += 1
        logger.debug("mock LLM injects fault %s", fault.kind)
    delivery = Delivery(
        delay_ms=state.latency_ms + find_sleep_ms(user_text),
        streamed=streamed,
        body=body,
        chunks=chunks,
        chunk_delay_ms=state.chunk_delay_ms,
        fault=fault,
        retry_after_s=state.faults.retry_after(fault) if fault else state.config.retry_after_s,
        call=f"{user_text}#{len(brain_request.items)}",
    )
    return DeliveryResponse(delivery, state.stats)


async def _json_object(request: Request) -> Mapping[str, Any] | Response:
    try:
        body = await request.json()
    except ValueError:
        return bad_request("request body is not valid JSON")
    if not isinstance(body, Mapping):
        return bad_request("request body must be a JSON object")
    return body


def _model_name(body: Mapping[str, Any], state: MockLLMState) -> str:
    model = body.get("model")
    return model if isinstance(model, str) and model else state.config.models[0]
