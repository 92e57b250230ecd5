"""Defensive response headers for a JSON API and the web console. Headers the app set itself
are left alone."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.console import is_console_path

_BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""Nothing may load or run: API responses are data. ``/docs`` sets its own policy, kept."""
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The console's pages and files: its own scripts and styles only (no inline script or style,
no other origin), API calls to this server only."""


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
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"

    def _headers_for(self, scope: Scope) -> list[tuple[str, str]]:
        headers = list(_BASE_HEADERS)
        console = is_console_path(scope["path"])
        headers.append(("Content-Security-Policy", CONSOLE_POLICY if console else API_POLICY))
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
