"""The metrics listener: ``GET /metrics`` on a port of its own (``metrics_port``).

It keeps the metrics — whose labels name every tenant and agent — off the API port, so the
network can reach one without the other (a NetworkPolicy, a firewall, a port not published).
It is a second uvicorn server in the event loop of a process that already runs a container:
``agenthost serve`` (with ``--workers N``, worker 0 serves it, from a socket the supervisor
bound once, and answers for every worker through the shared metrics directory) and
``agenthost worker``. It answers only ``/metrics`` (404 for anything else), asks for
``metrics_token`` when one is set, and has no lifespan, logs or middleware of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from agenthost.api.errors import problem_response
from agenthost.api.middleware.connection_limit import limit_connections
from agenthost.api.routes.metrics import scrape
from agenthost.container import Container
from agenthost.errors import AgentHostError, MethodNotAllowed, RouteNotFound
from agenthost.settings import ConfigError, Settings

logger = logging.getLogger(__name__)

MAX_CONNECTIONS = 32
"""Scrapers are few: more connections than this at once get 503 ``OVERLOADED``."""
METHODS = frozenset({"GET", "HEAD"})


def bind_metrics_socket(settings: Settings) -> socket.socket | None:
    """The listening socket of the metrics listener; None when there is none. Bound up front,
    so a port in use stops start-up with a clear message (ConfigError)."""
    port = settings.metrics_listener_port
    if port is None:
        return None
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        sock = socket.create_server((settings.host, port), family=family)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {settings.host}:{port} (metrics_port): {exc.strerror}"
        ) from None
    sock.set_inheritable(True)
    return sock


class MetricsApp:
    """A pure ASGI app answering ``GET /metrics`` and nothing else."""

    def __init__(self, container: Container) -> None:
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            if scope["path"] != "/metrics":
                raise RouteNotFound()
            if scope["method"] not in METHODS:
                raise MethodNotAllowed(headers={"Allow": "GET, HEAD"})
            response = await scrape(self.container, Headers(scope=scope))
        except AgentHostError as error:
            response = problem_response(error, None)
        await response(scope, receive, send)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's own server (or worker loop) handles signals and stops this one.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class MetricsListener:
    """Serve :class:`MetricsApp` on ``sock`` in this event loop, between start and stop."""

    def __init__(self, container: Container, sock: socket.socket) -> None:
        self._sock = sock
        config = uvicorn.Config(
            MetricsApp(container),
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
            timeout_keep_alive=int(container.settings.keepalive_timeout_s),
        )
        self._server = _Server(config)
        limit_connections(self._server, MAX_CONNECTIONS)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve from now on (returns once the server accepts connections)."""
        host, port = self._sock.getsockname()[:2]
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        listening = asyncio.create_task(self._server.listening.wait())
        await asyncio.wait({self._task, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if self._task.done():
            self._task.result()  # raises what stopped it
        logger.info("serving metrics on http://%s:%d/metrics", host, port)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
            self._task = None
