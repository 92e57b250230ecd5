"""Turn an unhandled exception into a 500 problem *inside* our middleware stack.

Starlette's own ``ServerErrorMiddleware`` sits outside every user middleware, so a 500 it
produced would lack the request id header, the security headers and the access-log status.
This middleware is placed innermost: it logs the exception with its stack (never sent to the
client) and answers ``INTERNAL`` if no response has started yet.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.api.errors import error_response
from agenthost.api.middleware.request_id import scope_request_id
from agenthost.errors import InternalError

logger = logging.getLogger(__name__)


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            logger.error("unhandled error", exc_info=exc)
            if started:
                raise
            request_id = scope_request_id(scope)
            response = error_response(InternalError(), request_id, scope["path"])
            await response(scope, receive, send)
