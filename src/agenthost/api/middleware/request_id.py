"""Give every HTTP request an id: a trusted inbound one, or a fresh UUID4.

The id lands in ``scope["state"]["request_id"]`` (read as ``request.state.request_id``), in the
contextvar of :mod:`agenthost.telemetry.context` (so log records carry it) and in the response
header. An inbound id that is not well formed is replaced, never echoed.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.telemetry.context import current_request_id, request_id_bound

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def scope_request_id(scope: Scope) -> str | None:
    """The request id :class:`RequestIdMiddleware` gave this request (None outside one)."""
    request_id = scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else current_request_id()


def is_valid_request_id(value: str) -> bool:
    """A UUID in canonical or hex form, or 8-128 characters of ``[A-Za-z0-9._:-]``."""
    return _VALID_ID.fullmatch(value) is not None


class RequestIdMiddleware:
    """Assign a request id and echo it in the ``header`` response header."""

    def __init__(self, app: ASGIApp, *, header: str = "X-Request-ID", trust_inbound: bool = True):
        self.app = app
        self.header = header
        self.trust_inbound = trust_inbound

    def _choose_id(self, scope: Scope) -> str:
        if self.trust_inbound:
            inbound = Headers(scope=scope).get(self.header)
            if inbound is not None and is_valid_request_id(inbound):
                return inbound
        return str(uuid.uuid4())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = self._choose_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers[self.header] = request_id
                message = {**message, "headers": headers.raw}
            await send(message)

        with request_id_bound(request_id):
            await self.app(scope, receive, send_with_id)
