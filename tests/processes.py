"""``agenthost`` commands as real processes, for tests of serving, shutdown and replicas."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import httpx2

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agenthost_env(mock: MockLLMServer, **settings: Any) -> dict[str, str]:
    """The test's environment plus settings (``AGENTHOST_<NAME>``) for a child process."""
    deployment = {
        "name": "mock",
        "model": "mock-gpt",
        "serves": ["*"],
        "base_url": mock.base_url,
        "client": getattr(mock, "model_client", None),
    }
    values: dict[str, Any] = {
        "agents": "tests.cli.serve_agents:registry",
        "deployments": json.dumps([deployment]),
        "log_format": "json",
        **settings,
    }
    return {**os.environ, **{f"AGENTHOST_{k.upper()}": str(v) for k, v in values.items()}}


def agenthost_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agenthost", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Servers:
    """``agenthost serve`` and ``worker`` processes started by one test, killed after it if
    still running."""

    def __init__(self, mock: MockLLMServer) -> None:
        self._mock = mock
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, workers: int = 1, grace_s: float = 20, log: IO[bytes] | None = None, **settings: Any
    ) -> tuple[subprocess.Popen[bytes], str]:
        """Start a server (its stderr, the logs, to ``log`` if given)."""
        port = free_port()
        env = agenthost_env(
            self._mock, port=port, workers=workers, shutdown_grace_s=grace_s, **settings
        )
        # A session of its own, as under a service manager: tests can signal its whole group.
        process = subprocess.Popen(
            [sys.executable, "-m", "agenthost", "serve"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stderr=log,
        )
        self.processes.append(process)
        return process, f"http://127.0.0.1:{port}"

    def worker(
        self, executor_id: str, grace_s: float = 20, **settings: Any
    ) -> subprocess.Popen[bytes]:
        """An ``agenthost worker`` process executing background runs."""
        env = agenthost_env(self._mock, shutdown_grace_s=grace_s, **settings)
        process = subprocess.Popen(
            [sys.executable, "-m", "agenthost", "worker", "--executor-id", executor_id],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


async def wait_ready(client: httpx2.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    async def ready() -> bool:
        assert process.poll() is None, "server exited during start-up"
        try:
            return (await client.get("/ready")).status_code == 200
        except httpx2.TransportError:
            return False

    await eventually(ready, timeout_s=30)
