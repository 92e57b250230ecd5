"""``agenthost worker``: a process that executes background runs and serves no HTTP.

It stops on SIGTERM or SIGINT the way ``serve`` does: no new runs are taken, the runs in
flight get ``shutdown_grace_s`` to finish, and those still going are suspended (left to be
resumed by another worker, or by this one when it starts again) before it exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal

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
    asyncio.run(_work(settings))


async def _work(settings: Settings) -> None:
    container = build_container(settings, executes_background=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await container.start()
        assert container.background is not None
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
        await container.aclose()
