"""Refuse request bodies larger than ``max_bytes`` with 413, before or while they are read,
and bodies not received within ``timeout_s`` of the first read with 408 (slow uploads).

A declared ``Content-Length`` over the limit is refused before the app runs. A body of unknown
length (chunked) is counted as the app reads it; once it goes over, ``receive`` raises, whatever
the app answers is discarded and the 413 problem is sent instead. If the app had already started
its response, the only honest thing left is to abort the request, so the error propagates.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.api.errors import error_response
from agenthost.api.middleware.request_id import scope_request_id
from agenthost.errors import AgentHostError, MalformedRequest, PayloadTooLarge, RequestTimeout

logger = logging.getLogger(__name__)


class BodyTooSlow(HTTPException):
    """Raised from ``receive`` when the body does not arrive in time (see :class:`BodyTooLarge`)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(status_code=408, detail=f"Request body not received in {timeout_s}s")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body goes over the limit.

    An ``HTTPException`` so frameworks that wrap body-parsing errors (FastAPI turns other
    exceptions into a 400) let it through untouched.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"Request body exceeds {max_bytes} bytes")


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` of the request; None if absent; ValueError if malformed."""
    values = Headers(scope=scope).getlist("content-length")
    if not values:
        return None
    stripped = {v.strip() for v in values}
    if len(stripped) != 1:
        raise ValueError("conflicting Content-Length headers")
    value = stripped.pop()
    if not value.isascii() or not value.isdigit():
        raise ValueError("Content-Length is not a non-negative integer")
    return int(value)


async def _send_problem(scope: Scope, send: Send, error: AgentHostError) -> None:
    request_id = scope_request_id(scope)
    response = error_response(error, request_id, scope["path"])
    # The rest of the body is never read, so the connection cannot be reused.
    response.headers["Connection"] = "close"
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class BodyLimitMiddleware:
    """413 ``PAYLOAD_TOO_LARGE`` for bodies over ``max_bytes``; 400 for a bad Content-Length;
    408 ``REQUEST_TIMEOUT`` for a body still incomplete ``timeout_s`` after the app asked for it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float | None = None) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than the limit of {self.max_bytes} bytes",
            details={"max_bytes": self.max_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared = _declared_length(scope)
        except ValueError as exc:
            await _send_problem(scope, send, MalformedRequest(f"Invalid Content-Length: {exc}"))
            return
        if declared is not None and declared > self.max_bytes:
            await _send_problem(scope, send, self._too_large())
            return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        exceeded: AgentHostError | None = None
        started = False
        deadline: float | None = None

        async def counting_receive() -> Message:
            nonlocal received, exceeded, deadline
            if self.timeout_s is not None and deadline is None:
                deadline = asyncio.get_running_loop().time() + self.timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                exceeded = RequestTimeout(
                    f"The request body was not received within {self.timeout_s}s"
                )
                raise BodyTooSlow(self.timeout_s or 0) from None
            if message["type"] == "http.request" and not message.get("more_body", False):
                deadline = None  # the whole body is in: the limit no longer applies
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = self._too_large()
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a truncated body is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except (BodyTooLarge, BodyTooSlow):
            if started:
                raise
        except Exception:
            if not exceeded or started:
                raise
            logger.debug("app raised after the body limit was exceeded", exc_info=True)
        if exceeded and not started:
            await _send_problem(scope, send, exceeded)
