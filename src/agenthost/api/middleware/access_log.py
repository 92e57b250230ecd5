"""One structured INFO record per HTTP request, on the ``agenthost.access`` logger.

The record is written when the response has ended, so streamed responses are logged with their
full size and duration. The query string is never logged: it can carry secrets. A request whose
app raised is logged with status 500 (unless a response had already started) and ``error``; one
cancelled before answering (the client went away) with 499 and ``cancelled``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.api.middleware.auth import scope_principal
from agenthost.api.middleware.request_id import scope_request_id

ACCESS_LOGGER = "agenthost.access"
CLIENT_CLOSED_REQUEST = 499
"""Status logged when the request was cancelled (client gone) before a response started."""


def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    if route is None:
        return None
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else None


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    return str(client[0])


class AccessLogMiddleware:
    """Log method, path, route template, status, duration, request id, client and size."""

    def __init__(self, app: ASGIApp, *, logger_name: str = ACCESS_LOGGER) -> None:
        self.app = app
        self.logger = logging.getLogger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)  # nothing would be written: nothing to observe
            return

        started_at = time.perf_counter()
        status: int | None = None
        sent_bytes = 0

        async def observing_send(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        outcome: dict[str, Any] = {}
        try:
            await self.app(scope, receive, observing_send)
        except Exception as exc:
            outcome = {"error": type(exc).__name__}
            status = status or 500
            raise
        except BaseException:
            outcome = {"cancelled": True}
            status = status or CLIENT_CLOSED_REQUEST
            raise
        finally:
            self._log(scope, status, started_at, sent_bytes, outcome)

    def _log(
        self,
        scope: Scope,
        status: int | None,
        started_at: float,
        sent_bytes: int,
        outcome: dict[str, Any],
    ) -> None:
        duration_ms = round((time.perf_counter() - started_at) * 1000, 3)
        principal = scope_principal(scope)
        method = scope.get("method", "")
        path = scope.get("path", "")
        fields: dict[str, Any] = {
            "method": method,
            "path": path,
            "route": _route_template(scope),
            "status": status,
            "duration_ms": duration_ms,
            "request_id": scope_request_id(scope),
            "client": _client(scope),
            "tenant": principal.tenant.id if principal else None,
            "api_key_id": principal.key_id if principal else None,
            "response_bytes": sent_bytes,
            "http_version": scope.get("http_version"),
            **outcome,
        }
        self.logger.info("%s %s %s %.1fms", method, path, status, duration_ms, extra=fields)
