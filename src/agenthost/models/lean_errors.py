"""Transport failures and error statuses as the openai client reports them.

The lean client raises the openai exception types (same classes, same ``response`` and
``body``), so :mod:`agenthost.classify`, retries, breakers and failover treat a lean
deployment's failures exactly like an openai-client deployment's. Those types carry an
``httpx2.Request`` and ``httpx2.Response``: they are built from aiohttp's (status, headers,
body) when an error is raised, and only then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx2
import openai

TIMEOUTS: tuple[type[Exception], ...] = (TimeoutError,)
"""Transport errors reported as :class:`openai.APITimeoutError`: aiohttp's connect, pool and
read timeouts (``ServerTimeoutError`` and its kinds are ``TimeoutError``)."""
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError, OSError)
"""Transport errors reported as :class:`openai.APIConnectionError` (timeouts first): refused,
reset or dropped connections, TLS failures, truncated bodies."""
_NOT_COPIED = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Headers describing the body as sent (aiohttp has decoded it already)."""

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def http_request(url: str) -> httpx2.Request:
    """The request an openai error names."""
    return httpx2.Request("POST", url)


def http_response(response: aiohttp.ClientResponse, content: bytes) -> httpx2.Response:
    """``response`` (whose body is ``content``) as the ``httpx2.Response`` an openai error
    holds: same status and headers, so ``Retry-After`` and request ids read the same."""
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_COPIED]
    return httpx2.Response(
        response.status,
        headers=headers,
        content=content,
        request=http_request(str(response.url)),
    )


def transport_error(exc: BaseException, url: str) -> openai.APIError:
    """The openai error for a failed send or read of a request to ``url`` (raise it
    ``from exc``)."""
    if isinstance(exc, TIMEOUTS):
        return openai.APITimeoutError(request=http_request(url))
    return openai.APIConnectionError(request=http_request(url))


def invalid_response(
    response: aiohttp.ClientResponse, content: bytes, data: object, message: str
) -> openai.APIResponseValidationError:
    """The openai error for a decoded body (or event) that is not what was asked for."""
    return openai.APIResponseValidationError(
        http_response(response, content), data, message=message
    )


def status_error(response: httpx2.Response) -> openai.APIStatusError:
    """The openai error for a 4xx/5xx ``response`` (see :func:`http_response`)."""
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


def stream_error(data: Any, url: str) -> openai.APIError | None:
    """The error a stream chunk carries (``{"error": {...}}``), as the openai client raises it."""
    if not isinstance(data, Mapping) or not data.get("error"):
        return None
    error = data["error"]
    message = error.get("message") if isinstance(error, Mapping) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return openai.APIError(message=message, request=http_request(url), body=error)
