"""Run the mock LLM: blocking (``run_mock_llm``) or as a child process (``MockLLMServer``)."""

from __future__ import annotations

import logging
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import IO, Any

import anyio
import httpx2
import uvicorn

from .app import create_mock_llm_app
from .config import MockLLMConfig

logger = logging.getLogger(__name__)

READY_LINE = "mock-llm listening on http://{host}:{port}/v1"
_READY = re.compile(r"mock-llm listening on http://(?P<host>\S+):(?P<port>\d+)/v1")


def run_mock_llm(
    host: str = "127.0.0.1",
    port: int = 8765,
    config: MockLLMConfig | None = None,
    *,
    log_level: str = "warning",
    on_bound: Callable[[int], None] | None = None,
) -> None:
    """Serve the mock LLM with uvicorn until interrupted.

    The socket is bound (and listening) before ``on_bound(port)`` is called, so with ``port=0``
    the caller learns the real port and requests made from then on queue until uvicorn serves.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(4096)  # benchmarks open thousands of connections at once
    app = create_mock_llm_app(config or MockLLMConfig())
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=1)
    )
    if on_bound is not None:
        on_bound(int(sock.getsockname()[1]))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def config_to_args(config: MockLLMConfig) -> list[str]:
    """The ``python -m agenthost.testing.mock_llm`` flags that reproduce ``config``."""
    args = [
        f"--latency-ms={config.latency_ms}",
        f"--chunk-delay-ms={config.chunk_delay_ms}",
        f"--fault-rate={config.fault_rate}",
        f"--fault-kinds={','.join(config.fault_kinds)}",
        f"--retry-after={config.retry_after_s}",
        f"--reply-prefix={config.reply_prefix}",
        f"--models={','.join(config.models)}",
    ]
    if config.seed is not None:
        args.append(f"--seed={config.seed}")
    return args


class MockLLMServer:
    """The mock LLM in a child process on 127.0.0.1 and a free port, driven over real HTTP.

    Use as a (sync or async) context manager, or call ``start()``/``stop()``.
    """

    def __init__(
        self,
        config: MockLLMConfig | None = None,
        *,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 30.0,
        log_level: str = "warning",
    ) -> None:
        self.config = config or MockLLMConfig()
        self.host = host
        self.port: int | None = None
        self._startup_timeout_s = startup_timeout_s
        self._log_level = log_level
        self._process: subprocess.Popen[str] | None = None
        self._admin: httpx2.Client | None = None
        self._drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the mock LLM server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The server process's id (to pin it to CPU cores, measure its CPU time, ...)."""
        if self._process is None:
            raise RuntimeError("the mock LLM server is not running")
        return self._process.pid

    @property
    def base_url(self) -> str:
        """What to give an OpenAI client as ``base_url``."""
        return f"{self.url}/v1"

    def start(self) -> MockLLMServer:
        if self._process is not None:
            return self
        command = [
            sys.executable, "-m", "agenthost.testing.mock_llm",
            f"--host={self.host}", "--port=0", f"--log-level={self._log_level}",
            *config_to_args(self.config),
        ]  # fmt: skip
        # The command is this interpreter and our own module with flags we built.
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        deadline = time.monotonic() + self._startup_timeout_s
        try:
            assert self._process.stdout is not None
            self.port = _read_port(self._process, self._process.stdout, deadline)
            self._drain = threading.Thread(target=_drain, args=(self._process.stdout,), daemon=True)
            self._drain.start()
            self._admin = httpx2.Client(base_url=self.url, timeout=10.0)
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if self._drain is not None:
            self._drain.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        self.port = None

    def stats(self) -> dict[str, Any]:
        """``GET /_mock/stats``."""
        return self._call("GET", "/_mock/stats")

    def queue_faults(self, *faults: str | Mapping[str, Any]) -> dict[str, Any]:
        """Queue faults, e.g. ``queue_faults({"kind": "429", "retry_after": 1}, "500")``."""
        specs = [{"kind": f} if isinstance(f, str) else dict(f) for f in faults]
        return self._call("POST", "/_mock/faults", {"faults": specs})

    def set_latency(
        self, latency_ms: int | None = None, *, chunk_delay_ms: int | None = None
    ) -> dict[str, Any]:
        """Change the base latency and/or the delay between streamed chunks."""
        payload = {"latency_ms": latency_ms, "chunk_delay_ms": chunk_delay_ms}
        body = {key: value for key, value in payload.items() if value is not None}
        return self._call("POST", "/_mock/latency", body)

    def reset(self) -> dict[str, Any]:
        """Clear queued faults and counters; delays back to the configured values."""
        return self._call("POST", "/_mock/reset")

    def _call(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        if self._admin is None:
            raise RuntimeError("the mock LLM server is not running")
        response = self._admin.request(method, path, json=payload)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def _wait_ready(self, deadline: float) -> None:
        assert self._admin is not None
        pause = 0.01
        while True:
            try:
                if self._admin.get("/v1/models").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() + pause > deadline:
                raise TimeoutError("the mock LLM server did not become ready")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def __enter__(self) -> MockLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> MockLLMServer:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)


def _read_port(process: subprocess.Popen[str], stdout: IO[str], deadline: float) -> int:
    """Wait for the child's ready line (it is printed once the socket listens)."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the mock LLM server did not report its port in time")
        readable, _, _ = select.select([stdout], [], [], remaining)
        if not readable:
            continue
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the mock LLM server exited early (code {process.wait()})")
        match = _READY.search(line)
        if match:
            return int(match.group("port"))


def _drain(stdout: IO[str]) -> None:
    for line in stdout:
        logger.debug("mock-llm: %s", line.rstrip())
