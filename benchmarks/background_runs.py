"""Background runs on PostgreSQL: enqueue rate, drain rate per worker, recovery after kill -9.

    .venv/bin/python -m benchmarks.background_runs [--runs 2000] [--workers 1]

Needs PostgreSQL on 127.0.0.1:5432 (a scratch database is created and dropped). Runs use the
offline demo model, so they are instant: what is measured is agenthost's and DBOS's own work
(admission, the durable model step, events, settlement). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from agenthost.container import build_container
from agenthost.execution.types import RunRequest
from agenthost.jobs.engine import migrate_system_database
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.migrate import upgrade
from agenthost.tenancy.auth import operator
from agenthost.tenancy.principal import DEV_TENANT
from benchmarks.background_agents import SLOW_TOOL_S

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _env(database_url: str, **extra: Any) -> dict[str, str]:
    values = {
        "database_url": database_url,
        "agents": "benchmarks.background_agents:registry",
        "demo_model": "true",
        "log_level": "WARNING",
        "heartbeat_s": 1,
        "executor_dead_after_s": 5,
        "queue_poll_s": 0.05,
        **extra,
    }
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHOST_")}
    return keep | {f"AGENTHOST_{k.upper()}": str(v) for k, v in values.items()}


def _worker(database_url: str, executor_id: str, **extra: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "agenthost", "worker", "--executor-id", executor_id],
        cwd=ROOT,
        env=_env(database_url, **extra),
    )


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _counts(url: str, agent: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT status, count(*) AS n FROM runs WHERE agent = $1 GROUP BY status", agent
        )
    finally:
        await connection.close()
    return {row["status"]: row["n"] for row in rows}


async def _finish_span(url: str, agent: str) -> float:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT min(finished_at) AS first, max(finished_at) AS last FROM runs WHERE agent = $1",
            agent,
        )
    finally:
        await connection.close()
    return float((row["last"] - row["first"]).total_seconds())


async def _wait(url: str, agent: str, done: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while (await _counts(url, agent)).get("succeeded", 0) < done:
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs not finished: {await _counts(url, agent)}")
        await asyncio.sleep(0.05)


async def _enqueue(settings: Settings, agent: str, count: int, concurrency: int = 32) -> float:
    """Queue ``count`` runs through the pipeline's admission; runs per second."""
    container = build_container(settings)
    await container.start()
    assert container.background is not None
    container.lifecycle.ready = True
    try:
        principal = await operator(container.db, DEV_TENANT)
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with gate:
                await container.background.submit(  # type: ignore[union-attr]
                    RunRequest(agent=agent, input=f"Where is order {index}?", principal=principal)
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - started)
    finally:
        await container.aclose()


async def main(runs: int, recovery_runs: int) -> dict[str, Any]:
    name = f"agenthost_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f"CREATE DATABASE {name}")
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    processes: list[subprocess.Popen[bytes]] = []
    try:
        db = Database(url)
        await upgrade(db)
        await db.aclose()
        await asyncio.to_thread(migrate_system_database, Settings(database_url=url))
        settings = Settings(
            database_url=url,
            agents="benchmarks.background_agents:registry",
            demo_model=True,
            execute_background_runs=False,
            log_level="WARNING",
        )
        enqueue_rate = await _enqueue(settings, "instant", runs)
        processes.append(_worker(url, "bench-1"))
        while (await _counts(url, "instant")).get("succeeded", 0) == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # (another process's progress, read from the database)
        cpu_before = _cpu_s(processes[0].pid)
        await _wait(url, "instant", runs)
        worker_cpu_ms = (_cpu_s(processes[0].pid) - cpu_before) * 1000 / runs
        drain_rate = (runs - 1) / await _finish_span(url, "instant")
        processes[0].send_signal(signal.SIGTERM)
        processes[0].wait()

        victim = _worker(url, "bench-victim")
        processes.append(victim)
        await _enqueue(settings, "orders", recovery_runs)
        while (await _counts(url, "orders")).get("running", 0) < recovery_runs:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        survivor = _worker(url, "bench-survivor")
        processes.append(survivor)
        await asyncio.sleep(2)  # the survivor is up and heart-beating; the tools still run
        killed = time.perf_counter()
        victim.send_signal(signal.SIGKILL)
        await _wait(url, "orders", recovery_runs)
        recovered_s = time.perf_counter() - killed
        return {
            "runs": runs,
            "enqueue_runs_per_s": round(enqueue_rate),
            "drain_runs_per_s_one_worker": round(drain_rate),
            "worker_cpu_ms_per_run": round(worker_cpu_ms, 2),
            "recovery_runs": recovery_runs,
            "executor_dead_after_s": 5,
            "slow_tool_s": SLOW_TOOL_S,
            "kill_to_all_finished_s": round(recovered_s, 2),
        }
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--recovery-runs", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.recovery_runs)), indent=2))
