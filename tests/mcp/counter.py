"""The counting MCP server of the tests, over stdio or as a child process serving HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from agents.mcp import MCPServerStdio, MCPServerStreamableHttp

from tests.processes import ROOT, free_port
from tests.waiting import eventually

MODULE = "agenthost.testing.mcp_counter"


def stdio_server(calls: Path, name: str = "counter") -> MCPServerStdio:
    """The counter as a child of whoever connects to it, recording its calls in ``calls``."""
    return MCPServerStdio(
        params={
            "command": sys.executable,
            "args": ["-m", MODULE, "--calls", str(calls)],
            "cwd": str(ROOT),
        },
        name=name,
        client_session_timeout_seconds=30,
    )


class HttpCounter:
    """The counter serving streamable HTTP on a fixed loopback port: kill it, start it again."""

    def __init__(self, calls: Path) -> None:
        self.calls = calls
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def client(self, name: str = "counter") -> MCPServerStreamableHttp:
        return MCPServerStreamableHttp(
            params={"url": self.url}, name=name, client_session_timeout_seconds=30
        )

    def spawn(self) -> None:
        command = [sys.executable, "-m", MODULE, "--transport", "http"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), "--calls", str(self.calls)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        """Spawn the server; return once it listens."""
        self.spawn()

        def listening() -> bool:
            assert self.process is not None and self.process.poll() is None, "counter exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return False
            return True

        await eventually(listening, timeout_s=30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
