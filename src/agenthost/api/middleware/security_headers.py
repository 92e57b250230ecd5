"""Defensive response headers for a JSON API. Headers the app set itself are left alone."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS: tuple[str, ...] = ("/docs", "/redoc", "/openapi.json")
"""Paths whose HTML pages load scripts and styles, so they get no ``Content-Security-Policy``."""

_BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)
_CSP = ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :] or "/"
    return path


def _is_under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response, without overriding the app's own.

    ``Strict-Transport-Security`` is sent only on HTTPS requests (behind a TLS-terminating
    proxy that needs the server to trust ``X-Forwarded-Proto``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_max_age: int = 31_536_000,
        csp_exempt_paths: Sequence[str] = DOCS_PATHS,
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"
        self.csp_exempt_paths = tuple(csp_exempt_paths)

    def _headers_for(self, scope: Scope) -> list[tuple[str, str]]:
        headers = list(_BASE_HEADERS)
        if not _is_under(_route_path(scope), self.csp_exempt_paths):
            headers.append(_CSP)
        if scope.get("scheme") == "https":
            headers.append(("Strict-Transport-Security", self.hsts))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        extra = self._headers_for(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in extra:
                    if name not in headers:
                        headers.append(name, value)
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
