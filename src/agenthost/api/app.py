"""The FastAPI application: routes, error handlers, and the middleware order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from agenthost import __version__
from agenthost.api.errors import install_error_handlers
from agenthost.api.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from agenthost.api.middleware.auth import AuthMiddleware
from agenthost.api.middleware.header_limit import HeaderLimitMiddleware
from agenthost.api.middleware.tracing import TracingMiddleware
from agenthost.api.middleware.unhandled import UnhandledErrorMiddleware
from agenthost.api.openapi import install_openapi
from agenthost.api.routes import (
    admin,
    approvals,
    background,
    chat,
    compat,
    health,
    keys,
    metrics,
    models,
    records,
    responses,
    runs,
    sessions,
)
from agenthost.api.routes.docs import docs_router
from agenthost.console import console_router
from agenthost.container import Container, build_container
from agenthost.registry import AgentRegistry
from agenthost.settings import Settings, load_settings


def middleware_stack(settings: Settings) -> list[Middleware]:
    """THE middleware order, outermost first. A request passes them top to bottom."""
    stack = [
        # Mint or accept the request id first, so every later layer (and log line) has it.
        Middleware(RequestIdMiddleware, trust_inbound=settings.trust_request_id),
        # Oversized headers go no further (431), not even into the access log's fields.
        Middleware(HeaderLimitMiddleware, max_bytes=settings.max_header_bytes),
        # The server span (and request metrics) next, so every log line below has a trace id.
        Middleware(TracingMiddleware),
        # Log after the id exists, around everything else, so refusals are logged too.
        *([Middleware(AccessLogMiddleware)] if settings.access_log else []),
        Middleware(SecurityHeadersMiddleware),
        *(
            [
                Middleware(
                    CORSMiddleware,
                    allow_origins=settings.cors_origins,
                    allow_methods=["*"],
                    allow_headers=["*"],
                    expose_headers=["X-Request-ID", "X-Run-ID", "X-Trace-ID"],
                )
            ]
            if settings.cors_origins
            else []
        ),
        # Compress responses (SSE is left alone by GZipMiddleware).
        Middleware(GZipMiddleware, minimum_size=1024),
        # Authenticate and rate-limit before any body is read (CORS preflights never get here).
        Middleware(AuthMiddleware),
        # Refuse oversized bodies before the app reads them, and stalled ones.
        Middleware(
            BodyLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            timeout_s=settings.body_timeout_s,
        ),
        # Innermost: a bug becomes a 500 problem that still passes through the layers above.
        Middleware(UnhandledErrorMiddleware),
    ]
    return stack


def create_app(
    settings: Settings | None = None,
    *,
    registry: AgentRegistry | None = None,
    container: Container | None = None,
) -> FastAPI:
    """Build the app around ``container`` (built here from settings when not given).

    The app owns the container: its lifespan marks it ready and closes it on shutdown.
    """
    settings = settings or load_settings()
    container = container or build_container(settings, registry=registry)
    lifecycle = container.lifecycle

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await container.start()
        except BaseException:
            await container.aclose()
            raise
        app.state.container = container
        lifecycle.ready = True
        background = [
            asyncio.create_task(container.ledger.keep_sweeping()),
            asyncio.create_task(container.secrets.keep_refreshing()),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            lifecycle.ready = False
            app.state.container = None
            await container.aclose()

    production = settings.environment == "production"
    app = FastAPI(
        title="agenthost",
        version=__version__,
        summary="Production runtime for OpenAI Agents SDK agents",
        lifespan=lifespan,
        middleware=middleware_stack(settings),
        docs_url=None,  # served by routes/docs.py, with its own CSP
        redoc_url=None,
        # Our own middleware traces requests (with our provider, not the process-global one);
        # FastAPI's native telemetry would only look the global providers up on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.lifecycle = lifecycle
    app.state.settings = settings
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    if settings.metrics_on_api_port:
        app.include_router(metrics.router)
    app.include_router(runs.router)
    app.include_router(records.router)
    app.include_router(background.router)
    app.include_router(approvals.router)
    app.include_router(sessions.router)
    app.include_router(keys.router)
    app.include_router(admin.router)
    app.include_router(compat.router)
    app.include_router(responses.router)
    app.include_router(chat.router)
    app.include_router(models.router)
    if not production:
        app.include_router(docs_router(app.title, app.openapi_url or "/openapi.json"))
    if settings.serves_console:
        app.include_router(console_router())
    return app
