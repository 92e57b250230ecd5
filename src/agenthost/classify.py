"""The one table that turns SDK and openai exceptions into agenthost errors."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable

import agents.exceptions as sdk
import openai

from agenthost.errors import (
    AgentHostError,
    GuardrailTripped,
    InternalError,
    MaxTurnsExceeded,
    ModelBehaviorFailed,
    RunTimeout,
    UpstreamError,
    UpstreamUnavailable,
)

# Upstream statuses worth retrying: rate limited, timeouts, and server-side failures.
RETRIABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def _status_error(exc: Exception) -> AgentHostError:
    assert isinstance(exc, openai.APIStatusError)
    status = exc.status_code
    retry_after = retry_after_seconds(exc.response.headers)
    if status in RETRIABLE_STATUSES or status >= 500:
        return UpstreamUnavailable(
            f"model service answered {status}",
            retry_after=retry_after,
            details={"upstream_status": status},
        )
    return UpstreamError(
        f"model service rejected the request with {status}", details={"upstream_status": status}
    )


def _guardrail(exc: Exception) -> AgentHostError:
    result = getattr(exc, "guardrail_result", None)
    guardrail = getattr(result, "guardrail", None) or getattr(exc, "guardrail", None)
    name = (
        guardrail.get_name() if guardrail is not None and hasattr(guardrail, "get_name") else None
    )
    return GuardrailTripped(
        f"guardrail {name!r} rejected the run" if name else GuardrailTripped.title,
        details={"guardrail": name},
    )


_TABLE: tuple[tuple[type[BaseException], Callable[[Exception], AgentHostError]], ...] = (
    (openai.APITimeoutError, lambda e: UpstreamUnavailable("model call timed out")),
    (openai.APIConnectionError, lambda e: UpstreamUnavailable("cannot reach the model service")),
    (openai.APIStatusError, _status_error),
    (
        openai.APIResponseValidationError,
        lambda e: UpstreamUnavailable("model service sent an invalid response"),
    ),
    (json.JSONDecodeError, lambda e: UpstreamUnavailable("model service sent invalid JSON")),
    (sdk.MaxTurnsExceeded, lambda e: MaxTurnsExceeded()),
    (sdk.InputGuardrailTripwireTriggered, _guardrail),
    (sdk.OutputGuardrailTripwireTriggered, _guardrail),
    (sdk.ToolInputGuardrailTripwireTriggered, _guardrail),
    (sdk.ToolOutputGuardrailTripwireTriggered, _guardrail),
    (sdk.ModelBehaviorError, lambda e: ModelBehaviorFailed()),
    (sdk.ModelRefusalError, lambda e: ModelBehaviorFailed("the model refused to answer")),
    (sdk.ModelTimeoutError, lambda e: UpstreamUnavailable("model call timed out")),
    (sdk.ToolTimeoutError, lambda e: RunTimeout("a tool call exceeded its timeout")),
)


def classify(exc: BaseException) -> AgentHostError:
    """Map ``exc`` (or the first mappable exception in its cause chain) to an AgentHostError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AgentHostError):
            return current
        for exc_type, convert in _TABLE:
            if isinstance(current, exc_type) and isinstance(current, Exception):
                return convert(current)
        current = current.__cause__ or current.__context__
    return InternalError()


def retry_after_seconds(headers: object) -> float | None:
    """Parse ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date); None if absent."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    millis = get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())
