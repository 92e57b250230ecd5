"""Defensive response headers for a JSON API. Headers the app set itself are left alone."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
    # Nothing may load or run: API responses are data. The one HTML page (``/docs``) sets
    # its own policy, which is kept.
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
)


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
