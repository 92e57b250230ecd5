"""The one place where errors become HTTP: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from agenthost.errors import (
    AgentHostError,
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
    all_headers = {**error.headers, **(headers or {})}
    if error.retry_after is not None:
        all_headers["Retry-After"] = str(retry_after_header(error.retry_after))
    return JSONResponse(
        body, status_code=error.status, headers=all_headers, media_type=PROBLEM_JSON
    )


def _respond(
    request: Request, error: AgentHostError, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    guide = request.url.path == GUIDE_ROUTE
    return problem_response(error, request_id_of(request), headers=headers, guide_style=guide)


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
