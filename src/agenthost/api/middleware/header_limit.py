"""Refuse requests whose target and headers together exceed ``max_bytes`` with 431.

The HTTP parser has already read them; refusing here keeps oversized headers (huge cookies,
forged ``X-Forwarded-For`` chains, giant tokens) away from authentication, logging and the app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from agenthost.api.errors import error_response
from agenthost.api.middleware.request_id import scope_request_id
from agenthost.errors import HeadersTooLarge


def request_head_size(scope: Scope) -> int:
    """Bytes of the request target and header fields, roughly as sent."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    return target + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", []))


class HeaderLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and request_head_size(scope) > self.max_bytes:
            error = HeadersTooLarge(
                f"The request line and headers are larger than the limit of {self.max_bytes} bytes",
                details={"max_bytes": self.max_bytes},
            )
            response = error_response(error, scope_request_id(scope), scope["path"])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
