"""Authentication and rate limiting, before any route runs.

Every path needs an API key except :data:`PUBLIC_PATHS` (probes, metrics, the API document)
and the web console's static files (which call the API with the user's key).
Those are rate limited per client IP instead — except the probes, which must answer however
busy one IP (a load balancer, the kubelet) is. Failed authentications spend the client IP's
budget of them (``auth_failure_limit``), checked before a key is looked up, so a flood of fake
keys costs the database nothing (:mod:`agenthost.tenancy.auth_failures`). A request that
passes carries its :class:`~agenthost.tenancy.principal.Principal` in
``scope["state"]["principal"]`` and its response gets ``RateLimit-*`` headers.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.api.errors import error_response
from agenthost.api.middleware.request_id import scope_request_id
from agenthost.console import is_console_path
from agenthost.container import Container
from agenthost.errors import (
    AgentHostError,
    DependencyUnavailable,
    InternalError,
    Unauthenticated,
)
from agenthost.tenancy.principal import Principal
from agenthost.tenancy.ratelimit import Window

logger = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset(
    {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
)
PROBES = frozenset({"/health", "/ready"})
PRINCIPAL = "principal"


def presented_key(headers: Headers) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        # Anything but a bearer token is presented as-is, and fails as an invalid key.
        return credentials.strip() if scheme.lower() == "bearer" else authorization
    return headers.get("x-api-key")


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def scope_principal(scope: Scope) -> Principal | None:
    principal: Principal | None = scope.get("state", {}).get(PRINCIPAL)
    return principal


def scope_container(scope: Scope) -> Container | None:
    """The app's container for an HTTP request; None for other scopes or before start-up."""
    if scope["type"] != "http":
        return None
    container: Container | None = getattr(scope["app"].state, "container", None)
    return container


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        container = scope_container(scope)
        if container is None:  # not HTTP, or not started: routes answer 503 themselves
            await self.app(scope, receive, send)
            return
        try:
            window = await self._admit(container, scope)
        except Exception as exc:
            error = exc if isinstance(exc, AgentHostError) else InternalError()
            if error is not exc:
                logger.error("authentication failed unexpectedly", exc_info=exc)
            response = error_response(error, scope_request_id(scope), scope["path"])
            await response(scope, receive, send)
            return
        if window is None:
            await self.app(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in window.headers().items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _admit(container: Container, scope: Scope) -> Window | None:
        limits = container.rate_limits
        if scope["path"] in PROBES:
            return None
        if scope["path"] in PUBLIC_PATHS or is_console_path(scope["path"]):
            try:
                return await limits.for_ip(client_ip(scope))
            except DependencyUnavailable:
                return None  # the open routes stay open while rate limiting is down
        principal = await AuthMiddleware._authenticate(container, scope)
        window = await limits.for_principal(principal)
        scope.setdefault("state", {})[PRINCIPAL] = principal
        return window

    @staticmethod
    async def _authenticate(container: Container, scope: Scope) -> Principal:
        """The caller's principal; a failure spends the client IP's budget of them, which is
        checked first when the key must be looked up (not when it is cached, or absent)."""
        authenticator, failures = container.authenticator, container.failed_auth
        key = presented_key(Headers(scope=scope))
        if key is not None and authenticator.looks_up(key):
            async with failures.guard(client_ip(scope), key):
                return await authenticator.authenticate(key)
        try:
            return await authenticator.authenticate(key)
        except Unauthenticated:
            await failures.count(client_ip(scope))
            raise
