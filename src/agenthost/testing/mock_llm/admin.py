"""The admin API under ``/_mock``: queue faults, read counters, set latency, reset."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .delivery import error_body
from .faults import faults_from_payload
from .state import MockLLMState, state_of
from .stats import ADMIN_PREFIX


def admin_routes() -> list[Route]:
    return [
        Route(f"{ADMIN_PREFIX}/faults", queue_faults, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/latency", set_latency, methods=["POST", "PUT"]),
        Route(f"{ADMIN_PREFIX}/reset", reset, methods=["POST"]),
    ]


def bad_request(message: str) -> Response:
    """A 400 in OpenAI's error shape."""
    body = error_body(message, "invalid_request_error", None)
    return Response(body, status_code=400, media_type="application/json")


async def queue_faults(request: Request) -> Response:
    """``{"faults": [{"kind": "429", "retry_after": 1, "times": 2}, {"kind": "500"}]}``."""
    state = state_of(request)
    try:
        specs = faults_from_payload(await request.json())
    except ValueError as exc:
        return bad_request(str(exc))
    state.faults.enqueue(specs)
    return JSONResponse({"queued": len(specs), "pending": state.faults.queued})


async def stats(request: Request) -> Response:
    return JSONResponse(_stats_body(state_of(request)))


async def set_latency(request: Request) -> Response:
    """``{"latency_ms": 250, "chunk_delay_ms": 20}`` (either key) for following requests."""
    state = state_of(request)
    try:
        payload = await request.json()
    except ValueError as exc:
        return bad_request(str(exc))
    if not isinstance(payload, dict) or not payload.keys() & {"latency_ms", "chunk_delay_ms"}:
        return bad_request("body must set latency_ms and/or chunk_delay_ms")
    values = {key: payload[key] for key in ("latency_ms", "chunk_delay_ms") if key in payload}
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return bad_request(f"{key} must be a non-negative integer")
    state.latency_ms = values.get("latency_ms", state.latency_ms)
    state.chunk_delay_ms = values.get("chunk_delay_ms", state.chunk_delay_ms)
    return JSONResponse({"latency_ms": state.latency_ms, "chunk_delay_ms": state.chunk_delay_ms})


async def reset(request: Request) -> Response:
    state = state_of(request)
    state.reset()
    return JSONResponse(_stats_body(state))


def _stats_body(state: MockLLMState) -> dict[str, Any]:
    return {
        **state.stats.snapshot(),
        "queued_faults": state.faults.queued,
        "latency_ms": state.latency_ms,
        "chunk_delay_ms": state.chunk_delay_ms,
    }
