"""Pure ASGI middleware of the HTTP API. The order they wrap the app is decided in ``api/app.py``.

Compression uses Starlette's own ``GZipMiddleware``: it already leaves ``text/event-stream``
responses uncompressed and unbuffered, so SSE streams are unaffected.
"""

from agenthost.api.middleware.access_log import AccessLogMiddleware
from agenthost.api.middleware.body_limit import BodyLimitMiddleware
from agenthost.api.middleware.request_id import RequestIdMiddleware
from agenthost.api.middleware.security_headers import SecurityHeadersMiddleware

__all__ = [
    "AccessLogMiddleware",
    "BodyLimitMiddleware",
    "RequestIdMiddleware",
    "SecurityHeadersMiddleware",
]
