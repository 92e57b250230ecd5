"""agenthost's own HTTP server (the one ``serve`` runs) on loopback, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agenthost.api.metrics_listener import MetricsListener
from agenthost.api.server import DrainingServer, http_server
from agenthost.settings import Settings
from tests.waiting import eventually


@asynccontextmanager
async def served(
    settings: Settings, app: FastAPI, metrics: MetricsListener | None = None
) -> AsyncIterator[tuple[str, DrainingServer]]:
    """``(url, server)`` of ``app`` served by :func:`http_server` until the block ends."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = http_server(settings, app, metrics)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", server
    finally:
        server.should_exit = True
        await task
        sock.close()
