"""Domain errors. Every failure agenthost reports is an :class:`AgentHostError`.

Only ``api/errors.py`` turns these into HTTP responses; everything else raises them.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable, documented error codes returned in ``problem+json`` bodies."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    AGENT_NOT_FOUND = "AGENT_NOT_FOUND"
    RUN_NOT_FOUND = "RUN_NOT_FOUND"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    TENANT_NOT_FOUND = "TENANT_NOT_FOUND"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    CONFLICT = "CONFLICT"
    SESSION_BUSY = "SESSION_BUSY"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    RUN_TIMEOUT = "RUN_TIMEOUT"
    RUN_CANCELLED = "RUN_CANCELLED"
    RUN_ABANDONED = "RUN_ABANDONED"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    GUARDRAIL_TRIPPED = "GUARDRAIL_TRIPPED"
    MAX_TURNS_EXCEEDED = "MAX_TURNS_EXCEEDED"
    TOKEN_LIMIT_EXCEEDED = "TOKEN_LIMIT_EXCEEDED"  # noqa: S105 (an error code, not a secret)
    MODEL_BEHAVIOR_ERROR = "MODEL_BEHAVIOR_ERROR"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    OVERLOADED = "OVERLOADED"
    DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
    MCP_SERVER_UNAVAILABLE = "MCP_SERVER_UNAVAILABLE"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    INTERNAL = "INTERNAL"


class AgentHostError(Exception):
    """Base class: a code, an HTTP status, whether retrying may help, and safe details.

    ``message`` is shown to API callers, so it must never contain secrets or user input
    beyond what the caller sent. ``retry_after`` (seconds) becomes a ``Retry-After`` header;
    ``headers`` are added to the response as they are.
    """

    code: ErrorCode = ErrorCode.INTERNAL
    status: int = 500
    retriable: bool = False
    title: str = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.title
        self.retry_after = retry_after
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)

    @classmethod
    def from_record(cls, code: str, message: str | None) -> AgentHostError:
        """The error a stored run record names by its code (INTERNAL for an unknown code)."""
        pending: list[type[AgentHostError]] = [cls]
        while pending:
            kind = pending.pop()
            if kind.code.value == code:
                return kind(message)
            pending.extend(kind.__subclasses__())
        return InternalError(message)

    def for_run(self, run_id: str) -> AgentHostError:
        """A copy naming the run it ended (``run_id`` in the body, ``X-Run-ID`` header), so a
        caller can look up its record. A copy: one error may end several runs (shutdown)."""
        error = copy.copy(self)
        error.details = {**self.details, "run_id": run_id}
        error.headers = {**self.headers, "X-Run-ID": run_id}
        return error


class ValidationFailed(AgentHostError):
    code, status, title = ErrorCode.VALIDATION_ERROR, 422, "The request is invalid"

    @classmethod
    def for_field(cls, field: str, message: str, kind: str) -> ValidationFailed:
        """One invalid field, reported like the framework's own validation errors."""
        return cls(
            f"{field}: {message}",
            details={"errors": [{"field": field, "message": message, "type": kind}]},
        )


class GuideValidationFailed(ValidationFailed):
    """The guide's route answers invalid or missing fields with 400 (the v1 routes use 422)."""

    status, title = 400, "Missing or invalid fields"


class MalformedRequest(AgentHostError):
    code, status, title = ErrorCode.MALFORMED_REQUEST, 400, "Malformed request"


class Unauthenticated(AgentHostError):
    code, status, title = ErrorCode.UNAUTHENTICATED, 401, "Authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="agenthost"')


class Forbidden(AgentHostError):
    code, status, title = ErrorCode.FORBIDDEN, 403, "Not allowed"


class RouteNotFound(AgentHostError):
    code, status, title = ErrorCode.NOT_FOUND, 404, "No such route"


class MethodNotAllowed(AgentHostError):
    code, status, title = ErrorCode.METHOD_NOT_ALLOWED, 405, "Method not allowed"


class AgentNotFound(AgentHostError):
    code, status, title = ErrorCode.AGENT_NOT_FOUND, 404, "Agent not found"


class RunNotFound(AgentHostError):
    code, status, title = ErrorCode.RUN_NOT_FOUND, 404, "Run not found"


class PayloadTooLarge(AgentHostError):
    code, status, title = ErrorCode.PAYLOAD_TOO_LARGE, 413, "Request body too large"


class HeadersTooLarge(AgentHostError):
    code, status, title = ErrorCode.HEADERS_TOO_LARGE, 431, "Request headers too large"


class RequestTimeout(AgentHostError):
    """The client did not send its request body in time (a slow or stalled upload)."""

    code, status, title, retriable = ErrorCode.REQUEST_TIMEOUT, 408, "Request timeout", True


class UnsupportedMediaType(AgentHostError):
    code, status, title = ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported media type"


class RateLimited(AgentHostError):
    code, status, title, retriable = ErrorCode.RATE_LIMITED, 429, "Rate limit exceeded", True


class QuotaExceeded(AgentHostError):
    code, status, title, retriable = ErrorCode.QUOTA_EXCEEDED, 429, "Quota exceeded", True


class TokenLimitExceeded(AgentHostError):
    """A run crossed its tenant's tokens-per-run limit and was stopped (retrying the same run
    would cross it again, so this is not a 429)."""

    code, status, title = (
        ErrorCode.TOKEN_LIMIT_EXCEEDED,
        422,
        "The run exceeded its token limit and was stopped",
    )


class DependencyUnavailable(AgentHostError):
    code, status, title, retriable = (
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        503,
        "A service agenthost depends on is unavailable",
        True,
    )


class MCPServerUnavailable(AgentHostError):
    """An MCP server an agent needs is not connected (agenthost is reconnecting to it)."""

    code, status, title, retriable = (
        ErrorCode.MCP_SERVER_UNAVAILABLE,
        503,
        "An MCP server the agent needs is unavailable",
        True,
    )


class Conflict(AgentHostError):
    code, status, title = ErrorCode.CONFLICT, 409, "Conflict"


class SessionBusy(AgentHostError):
    """Another run of the same session is in flight and the request said ``on_busy: reject``."""

    code, status, title, retriable = (
        ErrorCode.SESSION_BUSY,
        409,
        "Another run of this session is in flight",
        True,
    )


class ApprovalExpired(AgentHostError):
    """A run's tool calls awaiting approval were not all decided within its
    ``approval_timeout_s``: the run is ``expired`` and can no longer continue."""

    code, status, title = ErrorCode.APPROVAL_EXPIRED, 409, "The approvals expired"


class TenantNotFound(AgentHostError):
    code, status, title = ErrorCode.TENANT_NOT_FOUND, 404, "Tenant not found"


class KeyNotFound(AgentHostError):
    code, status, title = ErrorCode.KEY_NOT_FOUND, 404, "API key not found"


class SessionNotFound(AgentHostError):
    code, status, title = ErrorCode.SESSION_NOT_FOUND, 404, "Session not found"


class CircuitOpen(AgentHostError):
    code, status, title, retriable = (
        ErrorCode.CIRCUIT_OPEN,
        503,
        "The model deployment is failing; its circuit breaker is open",
        True,
    )


class UpstreamUnavailable(AgentHostError):
    code, status, title, retriable = (
        ErrorCode.UPSTREAM_UNAVAILABLE,
        503,
        "The model service is unavailable",
        True,
    )


class UpstreamError(AgentHostError):
    code, status, title = ErrorCode.UPSTREAM_ERROR, 502, "The model service rejected the request"


class RunTimeout(AgentHostError):
    code, status, title, retriable = (
        ErrorCode.RUN_TIMEOUT,
        504,
        "The run exceeded its deadline and was cancelled",
        True,
    )


class RunCancelled(AgentHostError):
    code, status, title = ErrorCode.RUN_CANCELLED, 409, "The run was cancelled"


class GuardrailTripped(AgentHostError):
    code, status, title = ErrorCode.GUARDRAIL_TRIPPED, 422, "A guardrail rejected the run"


class MaxTurnsExceeded(AgentHostError):
    code, status, title = (
        ErrorCode.MAX_TURNS_EXCEEDED,
        422,
        "The agent did not finish within its maximum number of turns",
    )


class ModelBehaviorFailed(AgentHostError):
    code, status, title = (
        ErrorCode.MODEL_BEHAVIOR_ERROR,
        502,
        "The model produced an invalid response",
    )


class ShuttingDown(AgentHostError):
    code, status, title, retriable = (
        ErrorCode.SHUTTING_DOWN,
        503,
        "The server is shutting down; retry on another replica",
        True,
    )


class Overloaded(AgentHostError):
    """The server process already serves its most connections (``max_connections``)."""

    code, status, title, retriable = (
        ErrorCode.OVERLOADED,
        503,
        "The server is at its connection limit; retry shortly",
        True,
    )


class NotImplementedFeature(AgentHostError):
    code, status, title = ErrorCode.NOT_IMPLEMENTED, 501, "Not implemented"


class InternalError(AgentHostError):
    code, status, title = ErrorCode.INTERNAL, 500, "Internal error"
