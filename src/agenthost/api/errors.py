"""The one place where errors become HTTP: RFC 9457 ``application/problem+json``, or — on the
OpenAI-compatible routes (:data:`OPENAI_ROUTES`) — OpenAI's own error shape
``{"error": {"message", "type", "param", "code"}}`` as ``application/json``."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from agenthost.errors import (
    AgentHostError,
    ErrorCode,
    GuideValidationFailed,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    UnsupportedMediaType,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

GUIDE_ROUTE = "/api/agents/execute"
"""The guide's route: its errors also carry the guide's ``error`` and ``success`` members, and
its invalid bodies are 400 (the guide's status for missing fields), not 422."""

OPENAI_ROUTES = ("/v1/responses", "/v1/chat/completions", "/v1/models")
"""Routes that speak OpenAI's API: their errors are in OpenAI's shape, invalid bodies are 400."""

_HTTP_STATUS_ERRORS: Mapping[int, type[AgentHostError]] = MappingProxyType(
    {
        400: MalformedRequest,
        404: RouteNotFound,
        405: MethodNotAllowed,
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
    }
)


def problem_body(error: AgentHostError, request_id: str | None) -> dict[str, Any]:
    """The JSON body for ``error``; also used for SSE ``error`` events."""
    body: dict[str, Any] = {
        "type": f"urn:agenthost:problem:{error.code.value.lower().replace('_', '-')}",
        "title": error.title,
        "status": error.status,
        "detail": error.message,
        "code": error.code.value,
        "retriable": error.retriable,
        "request_id": request_id,
    }
    if error.retry_after is not None:
        body["retry_after"] = retry_after_header(error.retry_after)
    body.update(error.details)
    return body


def retry_after_header(seconds: float) -> int:
    """``Retry-After`` is whole seconds; never round a wait down to zero."""
    return max(1, math.ceil(seconds))


def problem_response(
    error: AgentHostError,
    request_id: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    guide_style: bool = False,
) -> JSONResponse:
    body = problem_body(error, request_id)
    if guide_style:
        body.update(success=False, error=error.message)
    return JSONResponse(
        body, status_code=error.status, headers=_headers(error, headers), media_type=PROBLEM_JSON
    )


def _headers(error: AgentHostError, extra: Mapping[str, str] | None) -> dict[str, str]:
    all_headers = {**error.headers, **(extra or {})}
    if error.retry_after is not None:
        all_headers["Retry-After"] = str(retry_after_header(error.retry_after))
    return all_headers


def is_openai_route(path: str) -> bool:
    return any(path == route or path.startswith(f"{route}/") for route in OPENAI_ROUTES)


_OPENAI_CODES: Mapping[ErrorCode, tuple[str, str]] = MappingProxyType(
    {
        ErrorCode.UNAUTHENTICATED: ("invalid_request_error", "invalid_api_key"),
        ErrorCode.AGENT_NOT_FOUND: ("invalid_request_error", "model_not_found"),
        ErrorCode.RUN_NOT_FOUND: ("invalid_request_error", "previous_response_not_found"),
        ErrorCode.RATE_LIMITED: ("requests", "rate_limit_exceeded"),
        ErrorCode.QUOTA_EXCEEDED: ("insufficient_quota", "insufficient_quota"),
    }
)
"""OpenAI's ``type`` and ``code`` for the errors OpenAI itself has; every other error is
``invalid_request_error`` (4xx) or ``server_error`` (5xx) with agenthost's code in lower case."""

_OPENAI_FIELD_CODES: Mapping[str, str] = MappingProxyType(
    {
        "missing": "missing_required_parameter",
        "extra_forbidden": "unknown_parameter",
        "unsupported_parameter": "unsupported_parameter",
        "unsupported_value": "unsupported_value",
    }
)


def openai_error(error: AgentHostError) -> dict[str, Any]:
    """The ``error`` member of OpenAI's error body (also the data of a failed stream)."""
    default = ("server_error" if error.status >= 500 else "invalid_request_error", None)
    kind, code = _OPENAI_CODES.get(error.code, default)
    param = error.details.get("param")
    fields = error.details.get("errors")
    if fields:  # a validation error names the first invalid parameter, as OpenAI does
        field = re.sub(r"^(path|query|header)\.", "", fields[0]["field"])
        param = re.sub(r"\.(\d+)", r"[\1]", field)
        code = _OPENAI_FIELD_CODES.get(fields[0]["type"], "invalid_value")
    return {
        "message": error.message,
        "type": kind,
        "param": param,
        "code": code or error.code.value.lower(),
    }


def openai_status(error: AgentHostError) -> int:
    """OpenAI answers an invalid parameter with 400 (agenthost's own routes use 422)."""
    return 400 if error.code is ErrorCode.VALIDATION_ERROR else error.status


def error_response(
    error: AgentHostError,
    request_id: str | None,
    path: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The response for ``error`` on the route at ``path``, in that route's error shape."""
    if is_openai_route(path):
        return JSONResponse(
            {"error": openai_error(error)},
            status_code=openai_status(error),
            headers=_headers(error, headers),
        )
    guide = path == GUIDE_ROUTE
    return problem_response(error, request_id, headers=headers, guide_style=guide)


def _respond(
    request: Request, error: AgentHostError, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return error_response(error, request_id_of(request), request.url.path, headers)


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _on_agenthost_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentHostError)
    if exc.status >= 500:
        logger.warning("request failed: %s %s", exc.code.value, exc.message)
    return _respond(request, exc)


def _is_unparsed_body(error: Mapping[str, Any]) -> bool:
    """FastAPI validated the raw bytes: the body was not sent as JSON."""
    return tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes | str)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _respond(request, MalformedRequest("The request body is not valid JSON"))
    if any(_is_unparsed_body(e) for e in errors):
        return _respond(
            request,
            MalformedRequest(
                "The request body must be a JSON object sent as Content-Type: application/json"
            ),
        )
    fields = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
            "message": str(e.get("msg", "invalid")).removeprefix("Value error, "),
            "type": e.get("type", "invalid"),
        }
        for e in errors
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    error_type = GuideValidationFailed if request.url.path == GUIDE_ROUTE else ValidationFailed
    return _respond(request, error_type(detail, details={"errors": fields}))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_type = _HTTP_STATUS_ERRORS.get(exc.status_code)
    if error_type is None:
        logger.error("unexpected HTTP %d from the framework: %s", exc.status_code, exc.detail)
        error_type = InternalError
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else None
    return _respond(request, error_type(detail), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AgentHostError, _on_agenthost_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
