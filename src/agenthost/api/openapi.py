"""The OpenAPI document, completed with the errors that layers outside the routes produce.

Routes document their own errors (:func:`~agenthost.api.schemas.problem.problem_responses`).
What every operation can answer besides — 401/403/429 from authentication and rate limits,
431 for oversized headers, 400/408/413 for a body that is not JSON, stalled or too large, 422
for invalid parameters — is added here,
once, and every error is documented as what it is: an ``application/problem+json`` document, or
on the OpenAI-compatible routes OpenAI's error body (FastAPI's own 422 schema, which agenthost
never sends, is replaced).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from agenthost.api.errors import is_openai_route
from agenthost.api.middleware.auth import PUBLIC_PATHS
from agenthost.api.schemas.openai import openai_error_responses
from agenthost.api.schemas.problem import problem_responses

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``app.openapi_url`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            complete_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete_errors(document: dict[str, Any]) -> None:
    """Add the cross-cutting error responses to every operation of ``document``, in place."""
    for path, operations in document.get("paths", {}).items():
        openai = is_openai_route(path)
        media_type = "application/json" if openai else "application/problem+json"
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if openai and _is_fastapi_validation(responses.get("422")):
                del responses["422"]  # these routes answer invalid input with 400 instead
            for status in sorted(_statuses(path, operation)):
                entry = responses.get(str(status))
                if entry is None or media_type not in entry.get("content", {}):
                    responses[str(status)] = _error_entry(status, openai)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)


def _is_fastapi_validation(entry: dict[str, Any] | None) -> bool:
    schema = (entry or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def _statuses(path: str, operation: dict[str, Any]) -> set[int]:
    statuses: set[int] = {431}
    if operation.get("requestBody"):
        statuses |= {400, 408, 413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if path not in PUBLIC_PATHS:
        statuses |= {401, 403, 429}
    if is_openai_route(path) and 422 in statuses:
        statuses = (statuses - {422}) | {400}  # OpenAI's routes answer invalid input with 400
    return statuses


def _error_entry(status: int, openai: bool) -> dict[str, Any]:
    entries = openai_error_responses(status) if openai else problem_responses(status)
    entry = dict(entries[status])
    entry.pop("model")
    return entry
