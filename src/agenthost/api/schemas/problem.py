"""The RFC 9457 problem document every error response carries (for the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URN naming the kind of problem.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable error code, e.g. AGENT_NOT_FOUND.")
    retriable: bool = Field(description="Whether the same request may succeed later.")
    request_id: str | None
    retry_after: int | None = Field(default=None, description="Seconds, as in Retry-After.")
    errors: list[FieldError] | None = Field(default=None, description="Each invalid field.")


_DESCRIPTIONS: Mapping[int, str] = MappingProxyType(
    {
        400: "The body is not JSON, or (guide route) a field is missing or invalid",
        401: "No API key, or an invalid, expired or revoked one",
        403: "The key lacks the scope, the tenant may not use the agent, or it is disabled",
        404: "No such agent, run, session, tenant or key (for this tenant)",
        408: "The request body did not arrive in time",
        409: "It already exists",
        413: "Body too large",
        422: "Invalid field",
        429: "Rate limited or over quota (see Retry-After)",
        431: "Request line and headers too large",
        501: "Background runs are not available yet",
        502: "The model service rejected the call or answered nonsense",
        503: "Shutting down, model service or rate limiting unavailable, or circuit open",
        504: "The run exceeded its deadline",
    }
)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, each a problem document."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "model": Problem,
            "content": {"application/problem+json": dict(problem)},
        }
        for status in statuses
    }
