"""The one place where errors become HTTP: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from agenthost.errors import (
    AgentHostError,
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

_HTTP_STATUS_ERRORS: dict[int, type[AgentHostError]] = {
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


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


def problem_response(error: AgentHostError, request_id: str | None) -> JSONResponse:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(retry_after_header(error.retry_after))
    return JSONResponse(
        problem_body(error, request_id),
        status_code=error.status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _on_agenthost_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentHostError)
    if exc.status >= 500:
        logger.warning("request failed: %s %s", exc.code.value, exc.message)
    return problem_response(exc, request_id_of(request))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            MalformedRequest("The request body is not valid JSON"), request_id_of(request)
        )
    fields = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
            "message": e.get("msg", "invalid"),
            "type": e.get("type", "invalid"),
        }
        for e in errors
    ]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    error = ValidationFailed(detail, details={"errors": fields})
    return problem_response(error, request_id_of(request))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_type = _HTTP_STATUS_ERRORS.get(exc.status_code)
    error = error_type() if error_type else InternalError(str(exc.detail))
    if error_type is None and exc.status_code < 500:
        error = ValidationFailed(str(exc.detail))
        error.status = exc.status_code
    return problem_response(error, request_id_of(request))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AgentHostError, _on_agenthost_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
