"""``agenthost worker``: a process that executes background runs and serves no HTTP.

It stops on SIGTERM or SIGINT the way ``serve`` does: no new runs are taken, the runs in
flight get ``shutdown_grace_s`` to finish, and those still going are suspended (left to be
resumed by another worker, or by this one when it starts again) before it exits 0. With a
metrics listener (``metrics_port``) it serves its own ``/metrics`` there, as long as it runs.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from agenthost.api.metrics_listener import MetricsListener, bind_metrics_socket
from agenthost.container import build_container, startup_warnings
from agenthost.errors import ShuttingDown
from agenthost.settings import ConfigError, Settings
from agenthost.telemetry.logging import configure_logging

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, sensitive=settings.log_sensitive_data
    )
    if not settings.background_runs:
        raise ConfigError("a worker executes background runs: background_runs must be on")
    for warning in startup_warnings(settings):
        logger.warning(warning)
    asyncio.run(_work(settings, bind_metrics_socket(settings)))


async def _work(settings: Settings, metrics_socket: socket.socket | None) -> None:
    container = build_container(settings, executes_background=True)
    listener = MetricsListener(container, metrics_socket) if metrics_socket else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await container.start()
        assert container.background is not None
        if listener is not None:
            await listener.start()
        lifecycle = container.lifecycle
        lifecycle.ready = True
        logger.info(
            "worker %s executing background runs (up to %d at once)",
            container.background.engine.executor_id,
            settings.worker_concurrency,
        )
        await stop.wait()
        lifecycle.begin_drain()
        if not await lifecycle.wait_idle(settings.shutdown_grace_s):
            suspended = lifecycle.abort_all(ShuttingDown("the worker stopped"))
            logger.warning("grace period over: %d run(s) left to resume elsewhere", suspended)
            await lifecycle.wait_idle(settings.shutdown_grace_s)
    finally:
        if listener is not None:
            await listener.stop()
        await container.aclose()
