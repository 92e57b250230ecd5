"""Serving with graceful shutdown.

On the first SIGTERM/SIGINT the process keeps listening but drains: ``/ready`` answers 503,
new runs are refused with 503 SHUTTING_DOWN, and runs in flight get ``shutdown_grace_s`` to
finish. Then uvicorn shuts down as usual and the process exits 0. A second signal skips the
wait. With ``workers > 1`` uvicorn's supervisor forwards SIGTERM to every worker, and each
drains the same way.

Two listeners: the API on ``port``, and (``metrics_port``) the metrics listener, bound here
once and served by the single process or, with ``workers > 1``, by worker 0.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import socket
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI

from agenthost.api.app import create_app
from agenthost.api.metrics_listener import MetricsListener, bind_metrics_socket
from agenthost.api.middleware.connection_limit import limit_connections
from agenthost.api.supervisor import supervise
from agenthost.container import build_container, startup_warnings
from agenthost.errors import ShuttingDown
from agenthost.execution.lifecycle import Lifecycle
from agenthost.settings import Settings
from agenthost.telemetry.logging import configure_logging

logger = logging.getLogger(__name__)

# After the drain, how long uvicorn waits for responses still being written.
RESPONSE_FLUSH_S = 5.0


class DrainingServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        lifecycle: Lifecycle,
        settings: Settings,
        metrics: MetricsListener | None = None,
    ) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._grace_s = settings.shutdown_grace_s
        self._metrics = metrics
        self._draining = False
        self._drain_task: asyncio.Task[None] | None = None
        # uvicorn's own limit (limit_concurrency) would answer in plain text.
        limit_connections(self, settings.max_connections)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._metrics is not None:  # the container is started by now
            await self._metrics.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._metrics is not None:  # scrapes are answered while the server drains
            await self._metrics.stop()
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining or not self._lifecycle.ready:
            # A second signal, or still starting: stop now (and hard on a repeated Ctrl-C).
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True
            return
        self._draining = True
        self._lifecycle.begin_drain()
        # A fresh context: the signal may have interrupted a request, whose ids must not leak.
        asyncio.get_event_loop().call_soon_threadsafe(
            self._start_drain, context=contextvars.Context()
        )

    def _start_drain(self) -> None:
        self._drain_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        in_flight = self._lifecycle.in_flight
        if await self._lifecycle.wait_idle(self._grace_s):
            logger.info("drained %d in-flight run(s); shutting down", in_flight)
        else:
            aborted = self._lifecycle.abort_all(
                ShuttingDown(
                    f"the server shut down before the run finished "
                    f"(grace period {self._grace_s:g}s)"
                )
            )
            logger.warning(
                "grace period of %gs over: stopped %d run(s) with SHUTTING_DOWN",
                self._grace_s,
                aborted,
            )
            # Let the stopped runs answer their callers before the connections close.
            await self._lifecycle.wait_idle(RESPONSE_FLUSH_S)
        self.should_exit = True


def _uvicorn_config(settings: Settings, app: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(RESPONSE_FLUSH_S),
        lifespan="on",
        timeout_keep_alive=int(settings.keepalive_timeout_s),
        # Forwarded headers only from the configured proxies (uvicorn trusts 127.0.0.1 else).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies,
    )


def http_server(
    settings: Settings, app: FastAPI, metrics: MetricsListener | None = None
) -> DrainingServer:
    """The server of ``app`` (and of the metrics listener, if given), not started."""
    return DrainingServer(_uvicorn_config(settings, app), app.state.lifecycle, settings, metrics)


def _configure_logging(settings: Settings) -> None:
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, sensitive=settings.log_sensitive_data
    )


def run_worker(
    settings: Settings,
    sockets: list[socket.socket] | None = None,
    metrics_dir: Path | None = None,
    metrics_socket: socket.socket | None = None,
) -> None:
    """One server process: its own app, container and event loop (``metrics_dir``: the
    metrics directory of a supervised server; ``metrics_socket``: this process serves the
    metrics listener)."""
    _configure_logging(settings)
    container = build_container(settings, metrics_dir=metrics_dir)
    app = create_app(settings, container=container)
    listener = MetricsListener(container, metrics_socket) if metrics_socket else None
    server = http_server(settings, app, listener)
    server.run(sockets=sockets)
    if not server.started:
        raise SystemExit(3)


async def preflight(settings: Settings) -> None:
    """Build and start a container once, so configuration errors (a bad setting, an
    unmigrated database) stop ``serve`` with their message, not in N restarting workers."""
    container = build_container(settings)
    try:
        background = container.background
        await container.start(background=False, mcp=False)
        if background is not None and settings.workers == 1:
            await background.check_identity()
    finally:
        await container.aclose()


def serve(settings: Settings) -> None:
    """Serve in this process, or in ``workers`` supervised processes sharing one socket."""
    _configure_logging(settings)
    asyncio.run(preflight(settings))
    for warning in startup_warnings(settings):
        logger.warning(warning)
    metrics_socket = bind_metrics_socket(settings)
    if settings.workers == 1:
        run_worker(settings, metrics_socket=metrics_socket)
        return
    sock = _uvicorn_config(settings, None).bind_socket()
    raise SystemExit(supervise(settings, sock, metrics_socket))
