"""agenthost's overhead against what a user would otherwise write, in front of one mock LLM.

    .venv/bin/python -m benchmarks.overhead [--seconds 10] [--out results.json]

Every server is pinned to core 0 (one at a time); the mock LLM (``agenthost mock-llm``, no
latency) and ``wrk -t1`` share the other cores. Measured, at 1 and 32 connections: the mock
alone, a bare FastAPI endpoint returning JSON, the guide's pattern (FastAPI + ``Runner.run`` +
``OpenAIChatCompletionsModel``), and agenthost with its whole pipeline on (API key auth, rate
limits, quota reservation with a concurrency slot, run record, metrics, tracing spans); then
cache hits, and the time to the first event of a streamed run. agenthost uses SQLite, or a
scratch PostgreSQL database at 127.0.0.1:5432 with ``--postgres``. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

from agenthost.testing.mock_llm.server import MockLLMServer
from benchmarks.bench_agents import INSTRUCTIONS, MODEL
from benchmarks.support import Load, free_port, other_cores, python, start, stop, wrk

BODY = json.dumps({"input": "hello"})
UNLIMITED = "100000000/minute"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def agenthost_env(database_url: str, mock_url: str) -> dict[str, str]:
    deployment = {
        "name": "mock",
        "model": MODEL,
        "base_url": mock_url,
        "api": "chat_completions",
        "max_connections": 256,
        "max_keepalive_connections": 256,
    }
    return {
        "AGENTHOST_DATABASE_URL": database_url,
        "AGENTHOST_AGENTS": "benchmarks.bench_agents:registry",
        "AGENTHOST_DEPLOYMENTS": json.dumps([deployment]),
        "AGENTHOST_LOG_LEVEL": "WARNING",
        "AGENTHOST_RATE_LIMIT_PER_KEY": UNLIMITED,
        "AGENTHOST_RATE_LIMIT_PER_TENANT": UNLIMITED,
        "AGENTHOST_RATE_LIMIT_PER_IP": UNLIMITED,
        "AGENTHOST_BACKGROUND_RUNS": "false",
    }


def cli(env: dict[str, str], *args: str) -> str:
    command = [python(), "-m", "agenthost", *args]
    done = subprocess.run(  # noqa: S603
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout


def api_key(env: dict[str, str]) -> str:
    cli(env, "db", "upgrade")
    cli(env, "tenants", "create", "bench", "--runs-per-month", "1000000000",
        "--max-concurrent-runs", "1000", "--rate-limit", UNLIMITED)  # fmt: skip
    created = json.loads(cli(env, "keys", "create", "bench", "--json"))
    row = created[0] if isinstance(created, list) else created
    return str(row["key"])


def measure(url: str, body: str, seconds: float, pid: int, **headers: str) -> dict[str, Load]:
    wrk(url, body, connections=32, seconds=2, headers=headers)  # warm-up
    return {
        f"c{c}": wrk(url, body, connections=c, seconds=seconds, headers=headers, server_pid=pid)
        for c in (1, 32)
    }


def first_events(url: str, auth: dict[str, str], runs: int) -> dict[str, float]:
    """Milliseconds to the first byte and to the first text delta of streamed runs."""
    first_byte, first_text = [], []
    body = {"input": "hello", "stream": True}
    with httpx2.Client(headers=auth, timeout=30) as client:
        for _ in range(runs):
            started = time.perf_counter()
            with client.stream("POST", url, json=body) as response:
                lines = response.iter_lines()
                next(lines)
                first_byte.append((time.perf_counter() - started) * 1000)
                for line in lines:
                    if line == "event: text_delta":
                        first_text.append((time.perf_counter() - started) * 1000)
                        break
                for _ in lines:
                    pass
    return {
        "first_byte_p50_ms": statistics.median(first_byte),
        "first_text_delta_p50_ms": statistics.median(first_text),
    }


def mock_first_chunk(base_url: str, runs: int) -> float:
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    times = []
    with httpx2.Client(timeout=30) as client:
        for _ in range(runs):
            started = time.perf_counter()
            with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
                chunks = response.iter_bytes()
                next(chunks)
                times.append((time.perf_counter() - started) * 1000)
                for _ in chunks:
                    pass
    return statistics.median(times)


def run(seconds: float, postgres: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with MockLLMServer() as mock, tempfile.TemporaryDirectory() as tmp:
        os.sched_setaffinity(mock.pid, other_cores())
        chat = json.dumps(
            {
                "model": MODEL,
                "messages": [
                    {"role": "system", "content": INSTRUCTIONS},
                    {"role": "user", "content": "hello"},
                ],
            }
        )
        results["mock"] = measure(f"{mock.base_url}/chat/completions", chat, seconds, mock.pid)

        port = free_port()
        guide = start(
            [python(), "-m", "uvicorn", "benchmarks.guide_server:app", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            {"MOCK_BASE_URL": mock.base_url},
            f"http://127.0.0.1:{port}/docs",
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            results["bare_fastapi"] = measure(f"{base}/json", BODY, seconds, guide.pid)
            results["guide_pattern"] = measure(f"{base}/run", BODY, seconds, guide.pid)
        finally:
            stop(guide)

        with agenthost_database(Path(tmp), postgres) as database_url:
            results.update(measure_agenthost(agenthost_env(database_url, mock.base_url), seconds))
        results["streaming"]["mock_first_chunk_p50_ms"] = mock_first_chunk(mock.base_url, 200)
    return results


def measure_agenthost(env: dict[str, str], seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with agenthost_server(env) as (server, base, auth):
        runs = f"{base}/v1/agents"
        results["agenthost"] = measure(f"{runs}/bench/runs", BODY, seconds, server.pid, **auth)
        results["agenthost_cache_hits"] = measure(
            f"{runs}/bench_cached/runs", BODY, seconds, server.pid, **auth
        )
        results["streaming"] = first_events(f"{runs}/bench/runs", auth, 200)
    return results


@contextmanager
def agenthost_database(directory: Path, postgres: bool) -> Iterator[str]:
    """agenthost's database: a SQLite file in ``directory``, or a scratch PostgreSQL database
    dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{directory / 'agenthost.db'}"
        return
    name = f"bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextmanager
def agenthost_server(
    env: dict[str, str],
) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str]]]:
    """``agenthost serve`` pinned to the server core, with a tenant and its key: the process,
    its base URL and the key's ``Authorization`` header."""
    key = api_key(env)
    port = free_port()
    server = start(
        [python(), "-m", "agenthost", "serve", "--port", str(port)],
        env,
        f"http://127.0.0.1:{port}/health",
    )
    try:
        yield server, f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    finally:
        stop(server)


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def summary(results: dict[str, Any]) -> dict[str, Any]:
    def rps(name: str, c: str = "c32") -> float:
        return float(results[name][c].rps)

    return {
        "agenthost_vs_guide_rps_c32": round(rps("agenthost") / rps("guide_pattern"), 2),
        "agenthost_vs_guide_rps_c1": round(rps("agenthost", "c1") / rps("guide_pattern", "c1"), 2),
        "p50_overhead_over_mock_c1_ms": round(
            results["agenthost"]["c1"].p50_ms - results["mock"]["c1"].p50_ms, 3
        ),
        "cache_hits_vs_bare_fastapi": round(rps("agenthost_cache_hits") / rps("bare_fastapi"), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--postgres", action="store_true", help="agenthost on PostgreSQL at 127.0.0.1:5432"
    )
    args = parser.parse_args()
    results = run(args.seconds, args.postgres)
    report = {
        name: {c: asdict(load) for c, load in value.items()} if name != "streaming" else value
        for name, value in results.items()
    }
    report["summary"] = summary(results)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
