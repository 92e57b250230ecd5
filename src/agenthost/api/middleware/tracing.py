"""The HTTP request's server span and metrics.

Continues an inbound W3C ``traceparent`` (when ``trust_trace_context``), names the span
``METHOD /route/{template}``, returns the trace id in ``X-Trace-ID``, and counts the request in
``agenthost_http_requests`` / ``agenthost_http_request_duration_seconds`` by route template
(``unmatched`` for paths no route serves, so label values stay bounded). Probes and
``/metrics`` are counted but not traced: a scrape every few seconds is not worth a trace.
"""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, SpanKind, Status, StatusCode
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthost.api.middleware.auth import PROBES, scope_container
from agenthost.api.middleware.request_id import scope_request_id
from agenthost.telemetry.tracing import extract

TRACE_HEADER = b"x-trace-id"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNTRACED = PROBES | {"/metrics"}


def route_of(scope: Scope) -> str:
    """The template of the route that served the request (set by the router on the scope)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        container = scope_container(scope)
        if container is None:
            await self.app(scope, receive, send)
            return
        tracing = container.tracing
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        parent = extract(Headers(scope=scope)) if tracing.trust_inbound else None
        tracer = NoOpTracer() if scope["path"] in UNTRACED else tracing.tracer
        span = tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        )
        span_context = span.get_span_context()
        trace_id = format(span_context.trace_id, "032x").encode()
        status = 500

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if span_context.is_valid:
                    headers = [*message.get("headers", []), (TRACE_HEADER, trace_id)]
                    message = {**message, "headers": headers}
            await send(message)

        started = time.perf_counter()
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False):
                await self.app(scope, receive, send_with_trace)
        finally:
            route = route_of(scope)
            span.update_name(f"{method} {route}")
            span.set_attributes(
                {
                    "http.route": route,
                    "http.response.status_code": status,
                    "agenthost.request_id": scope_request_id(scope) or "",
                }
            )
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
            metrics = container.metrics
            metrics.http_requests.labels(method, route, str(status)).inc()
            metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)
