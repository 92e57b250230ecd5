"""Background runs on PostgreSQL: enqueue rate, drain rate of one and two workers against
the peers', recovery after kill -9.

    .venv/bin/python -m benchmarks.background_runs [--runs 2000] [--recovery-runs 50]
        [--no-peers]

Needs PostgreSQL on 127.0.0.1:5432 (a scratch database per measurement, created and dropped).
Runs use the offline demo model, so they are instant: what is measured is agenthost's and
DBOS's own work (admission, the durable model step, events, settlement). The peers
(``benchmarks/dbos_peers.py``: DBOS alone, and the ``dbos-openai-agents`` integration when it
is installed) queue and drain the same number of runs in the same invocation, and the ratios
against them are printed with the figures, as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
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
from benchmarks import dbos_peers
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


def _postgres_cpu_s() -> float:
    """CPU time all PostgreSQL processes on this machine have used so far (the server is
    local; other databases' work is counted too, so run this on a quiet server)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended
            continue
        if text.split("(", 1)[1].split(")", 1)[0] == "postgres":
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


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


@contextlib.asynccontextmanager
async def _scratch_database(migrate_agenthost: bool) -> AsyncIterator[str]:
    """A new database (dropped afterwards) with DBOS's tables, and agenthost's if asked."""
    name = f"agenthost_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f"CREATE DATABASE {name}")
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        if migrate_agenthost:
            db = Database(url)
            await upgrade(db)
            await db.aclose()
        await asyncio.to_thread(migrate_system_database, Settings(database_url=url))
        yield url
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _peer_done(url: str) -> tuple[int, float]:
    """Peer workflows finished, and the seconds from the first one's end to the last's."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS n, min(updated_at) AS first, max(updated_at) AS last "
            "FROM dbos.workflow_status WHERE status = 'SUCCESS'"
        )
    finally:
        await connection.close()
    span = 0.0 if row["n"] == 0 else (row["last"] - row["first"]) / 1000
    return int(row["n"]), float(span)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait()


async def _drain(
    processes: list[subprocess.Popen[bytes]],
    done: Callable[[], Awaitable[tuple[int, float]]],
    runs: int,
    timeout_s: float = 600,
) -> dict[str, float]:
    """Wait for the workers' first finished run, then for all ``runs``; the drain rate (from
    the first run's end to the last's) and the workers' CPU per run in that time."""
    deadline = time.monotonic() + timeout_s
    while (await done())[0] == 0:
        if time.monotonic() > deadline:
            raise TimeoutError("no run finished")
        await asyncio.sleep(0.01)  # (other processes' progress, read from the database)
    cpu_before = sum(_cpu_s(process.pid) for process in processes)
    postgres_before = _postgres_cpu_s()
    while (finished := await done())[0] < runs:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{finished[0]} of {runs} runs finished")
        await asyncio.sleep(0.02)
    cpu_ms = (sum(_cpu_s(process.pid) for process in processes) - cpu_before) * 1000
    postgres_ms = (_postgres_cpu_s() - postgres_before) * 1000
    for process in processes:
        _stop(process)
    return {
        "runs_per_s": (runs - 1) / finished[1],
        "cpu_ms_per_run": cpu_ms / (runs - 1),
        "postgres_cpu_ms_per_run": postgres_ms / (runs - 1),
    }


async def _peer(kind: dbos_peers.Kind, runs: int, workers: int = 1) -> dict[str, float]:
    async with _scratch_database(migrate_agenthost=False) as url:
        enqueue_rate = await dbos_peers.enqueue(url, runs)
        processes = [dbos_peers.worker(kind, url, f"peer-{kind}-{n}") for n in range(workers)]
        try:
            drained = await _drain(processes, lambda: _peer_done(url), runs)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        return {"enqueue_runs_per_s": enqueue_rate, **drained}


def _bench_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        agents="benchmarks.background_agents:registry",
        demo_model=True,
        execute_background_runs=False,
        log_level="WARNING",
    )


async def _agenthost(runs: int, workers: int) -> dict[str, float]:
    async with _scratch_database(migrate_agenthost=True) as url:
        enqueue_rate = await _enqueue(_bench_settings(url), "instant", runs)
        processes = [_worker(url, f"bench-{index}") for index in range(workers)]
        try:

            async def done() -> tuple[int, float]:
                count = (await _counts(url, "instant")).get("succeeded", 0)
                return count, await _finish_span(url, "instant") if count else 0.0

            drained = await _drain(processes, done, runs)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        return {"enqueue_runs_per_s": enqueue_rate, **drained}


async def _recovery(recovery_runs: int) -> float:
    """Seconds from ``kill -9`` of the worker running ``recovery_runs`` slow runs to all of
    them finished by a second worker."""
    async with _scratch_database(migrate_agenthost=True) as url:
        processes = [_worker(url, "bench-victim")]
        try:
            await _enqueue(_bench_settings(url), "orders", recovery_runs)
            while (await _counts(url, "orders")).get("running", 0) < recovery_runs:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            processes.append(_worker(url, "bench-survivor"))
            await asyncio.sleep(2)  # the survivor is up and heart-beating; the tools still run
            killed = time.perf_counter()
            processes[0].send_signal(signal.SIGKILL)
            await _wait(url, "orders", recovery_runs)
            return time.perf_counter() - killed
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 2 if "ms" in name else 0) for name, value in figures.items()}


async def main(runs: int, recovery_runs: int, peers: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"runs": runs}
    if peers:
        results["bare_dbos"] = _rounded(await _peer("bare", runs))
        results["bare_dbos_two_workers"] = _rounded(await _peer("bare", runs, workers=2))
        if dbos_peers.integration_installed():
            results["dbos_openai_agents"] = _rounded(await _peer("agents", runs))
        else:
            results["dbos_openai_agents"] = "not installed (see benchmarks/dbos_peers.py)"
    one = await _agenthost(runs, workers=1)
    results["agenthost_one_worker"] = _rounded(one)
    two = await _agenthost(runs, workers=2)
    results["agenthost_two_workers"] = _rounded(two)
    ratios = {"two_workers_vs_one": two["runs_per_s"] / one["runs_per_s"]}
    if peers:
        bare, bare_two = results["bare_dbos"], results["bare_dbos_two_workers"]
        ratios["bare_dbos_two_workers_vs_one"] = bare_two["runs_per_s"] / bare["runs_per_s"]
    for peer in ("bare_dbos", "dbos_openai_agents"):
        figures = results.get(peer)
        if isinstance(figures, dict):
            ratios[f"drain_vs_{peer}"] = one["runs_per_s"] / figures["runs_per_s"]
            ratios[f"enqueue_vs_{peer}"] = one["enqueue_runs_per_s"] / figures["enqueue_runs_per_s"]
    results["ratios"] = {name: round(value, 2) for name, value in ratios.items()}
    if recovery_runs:
        results["recovery"] = {
            "runs": recovery_runs,
            "executor_dead_after_s": 5,
            "slow_tool_s": SLOW_TOOL_S,
            "kill_to_all_finished_s": round(await _recovery(recovery_runs), 2),
        }
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--recovery-runs", type=int, default=50, help="0: no recovery test")
    parser.add_argument("--no-peers", action="store_true", help="agenthost alone")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.recovery_runs, not args.no_peers)), indent=2))
