"""The package as a container image installs it: the built wheel in a fresh virtual
environment, migrations as their own step on PostgreSQL, then one ``serve`` and one ``worker``
from that environment. A sync run and a background run succeed; a background run still in
its tool when SIGTERM arrives finishes within the grace period; both processes exit 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.conftest import client_for
from tests.processes import ROOT, free_port
from tests.waiting import eventually

pytestmark = pytest.mark.integration

INSTALL_TIMEOUT_S = 900


def _run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the built wheel installed; its ``bin``."""
    root = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", root / "dist", ".")
    (wheel,) = (root / "dist").glob("agenthost-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if "/console/static/" in name}
    static = ROOT / "src" / "agenthost" / "console" / "static"
    shipped = {f"agenthost/{p.relative_to(static.parents[1])}" for p in static.rglob("*.*")}
    assert packaged == shipped, "the web console's files are not all in the wheel"
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    _run(
        bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel
    )
    return bin_dir


def _env(mock: MockLLMServer, database_url: str, **settings: Any) -> dict[str, str]:
    deployment = {
        "name": "mock",
        "model": "mock-gpt",
        "serves": ["*"],
        "base_url": mock.base_url,
        "client": client_for(mock),
    }
    values: dict[str, Any] = {
        "database_url": database_url,
        "agents": "tests.jobs.crash_agents:registry",
        "deployments": json.dumps([deployment]),
        "dev_mode": "true",
        "background_runs": "true",
        "log_format": "json",
        "log_level": "WARNING",
        "queue_poll_s": 0.05,
        "shutdown_grace_s": 20,
        **settings,
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHOST_")}
    # The agents module lives in this checkout; agenthost itself comes from the venv.
    return (
        clean
        | {"PYTHONPATH": str(ROOT)}
        | {f"AGENTHOST_{k.upper()}": str(v) for k, v in values.items()}
    )


def _start(bin_dir: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([bin_dir / "agenthost", *args], cwd=ROOT, env=env)


async def test_wheel_in_a_fresh_venv_serves_and_works_then_stops_cleanly(
    installed: Path, mock_llm: MockLLMServer, postgres_url: str
) -> None:
    port = free_port()
    env = _env(mock_llm, postgres_url, port=port, execute_background_runs="false")
    where = _run(installed / "python", "-c", "import agenthost; print(agenthost.__file__)", env=env)
    assert str(installed.parent) in where, where  # not this checkout's sources
    _run(installed / "agenthost", "db", "upgrade", env=env)

    server = _start(installed, env, "serve")
    worker = _start(installed, env, "worker", "--executor-id", "wheel-worker")
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            async def ready() -> bool:
                assert server.poll() is None and worker.poll() is None
                try:
                    return (await client.get("/ready")).status_code == 200
                except httpx2.TransportError:
                    return False

            await eventually(ready, timeout_s=60)
            page = await client.get("/console")
            script = await client.get("/console/static/pages/playground.js")
            assert page.status_code == script.status_code == 200
            assert "/console/static/app.js" in page.text and "streamRun" in script.text
            question = {"input": "Where is order w-1 shipping status?"}
            sync = await client.post("/v1/agents/orders/runs", json=question)
            assert sync.status_code == 200, sync.text
            queued = await client.post(
                "/v1/agents/orders/runs", json={**question, "background": True}
            )
            assert queued.status_code == 202, queued.text
            run_id = queued.json()["run_id"]

            async def in_tool() -> bool:
                return bool((await client.get(f"/v1/runs/{run_id}")).json()["status"] == "running")

            await eventually(in_tool, timeout_s=30)
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(worker.wait, 30) == 0
            record = (await client.get(f"/v1/runs/{run_id}")).json()
            assert record["status"] == "succeeded", record
            assert record["output"] == f"Result: order {question['input']} shipped"
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 30) == 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.kill()
                process.wait()
