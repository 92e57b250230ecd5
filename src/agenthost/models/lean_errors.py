"""Transport failures and error statuses as the openai client reports them.

The lean client raises the openai exception types (same classes, same ``response`` and
``body``), so :mod:`agenthost.classify`, retries, breakers and failover treat a lean
deployment's failures exactly like an openai-client deployment's.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any

import anyio
import httpx2
import openai

TIMEOUTS: tuple[type[Exception], ...] = (httpx2.TimeoutException,)
"""Transport errors the openai client reports as :class:`openai.APITimeoutError`."""
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx2.RequestError,
    ssl.SSLError,
    anyio.EndOfStream,
)
"""Transport errors it reports as :class:`openai.APIConnectionError` (timeouts first)."""

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def transport_error(exc: Exception, request: httpx2.Request) -> openai.APIError:
    """The openai error for a failed send or read (raise it ``from exc``)."""
    if isinstance(exc, TIMEOUTS):
        return openai.APITimeoutError(request=request)
    return openai.APIConnectionError(request=request)


def status_error(response: httpx2.Response) -> openai.APIStatusError:
    """The openai error for a 4xx/5xx ``response`` whose body has been read."""
    status = response.status_code
    message = f"Error code: {status}"
    text = response.text.strip()
    body: Any = text
    try:
        body = json.loads(text)
    except ValueError:
        pass
    else:
        error = body.get("error", body) if isinstance(body, Mapping) else None
        detail = error.get("message") if isinstance(error, Mapping) else None
        if isinstance(detail, str) and detail:
            message += f" - {detail}"
    data = body.get("error", body) if isinstance(body, Mapping) else body
    error_type = _STATUS_ERRORS.get(status)
    if error_type is None:
        error_type = openai.InternalServerError if status >= 500 else openai.APIStatusError
    return error_type(message, response=response, body=data)


def stream_error(data: Any, request: httpx2.Request) -> openai.APIError | None:
    """The error a stream chunk carries (``{"error": {...}}``), as the openai client raises it."""
    if not isinstance(data, Mapping) or not data.get("error"):
        return None
    error = data["error"]
    message = error.get("message") if isinstance(error, Mapping) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return openai.APIError(message=message, request=request, body=error)
