"""Refuse requests beyond ``max_connections`` with a 503 ``OVERLOADED`` problem.

uvicorn's own limit (``limit_concurrency``) answers a plain-text 503 of its own; this layer
makes the same check — connections open, and requests being served, by this server process —
and answers like every other error: ``application/problem+json`` with ``Retry-After``. It
wraps the whole app (outside the middleware stack of ``api/app.py``), so a refusal costs no
more than the check, and reads the counts uvicorn keeps for its server.
"""

from __future__ import annotations

import uuid
from typing import cast

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.server import ServerState

from agenthost.api.errors import problem_response
from agenthost.errors import Overloaded

RETRY_AFTER_S = 1.0


class ConnectionLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, state: ServerState) -> None:
        self.app = app
        self.limit = limit
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # This request's own connection and task are already counted.
        if scope["type"] == "http" and (
            len(self.state.connections) > self.limit or len(self.state.tasks) > self.limit
        ):
            error = Overloaded(
                f"this server process serves at most {self.limit} connections at once",
                retry_after=RETRY_AFTER_S,
            )
            request_id = str(uuid.uuid4())
            response = problem_response(
                error, request_id, headers={"X-Request-ID": request_id, "Connection": "close"}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def limit_connections(server: uvicorn.Server, limit: int) -> None:
    """Wrap the app of ``server`` (not yet started) so that it answers requests beyond
    ``limit`` of its connections with 503 ``OVERLOADED``."""
    app = cast(ASGIApp, server.config.app)  # agenthost hands uvicorn ASGI 3 apps, not strings
    server.config.app = ConnectionLimitMiddleware(app, limit=limit, state=server.server_state)
