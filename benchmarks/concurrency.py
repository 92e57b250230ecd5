"""10,000 concurrent runs in one process against a mock LLM that takes 5 s to answer.

    .venv/bin/python -m benchmarks.concurrency [--runs 10000] [--latency-ms 5000]

The runs go through the whole pipeline in this process (admission with its quota reservation
and run record, deadline, runner, the model layer with its pooled client, settlement) on the
embedded SQLite database, pinned to core 0; the mock runs on the other cores. HTTP is left out
(a client opening 10,000 connections would need the same core). Reports errors, the most runs
and model calls in flight at once, the wall time and the peak RSS of this process. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from agenthost.container import build_container
from agenthost.execution.types import RunRequest
from agenthost.settings import Settings
from agenthost.store.migrate import upgrade
from agenthost.tenancy.auth import operator
from agenthost.tenancy.principal import DEV_TENANT
from agenthost.testing.mock_llm.config import MockLLMConfig
from agenthost.testing.mock_llm.server import MockLLMServer
from benchmarks.bench_agents import MODEL, registry
from benchmarks.support import SERVER_CORE, other_cores


def settings(directory: Path, mock_url: str, runs: int) -> Settings:
    deployment = {
        "name": "mock",
        "model": MODEL,
        "base_url": mock_url,
        "max_connections": runs,
        "max_keepalive_connections": runs,
        "pool_timeout_s": 120,
        "call_timeout_s": 120,
        "connect_timeout_s": 60,
    }
    return Settings(
        database_url=f"sqlite:///{directory / 'agenthost.db'}",
        deployments=[deployment],
        dev_mode=True,
        background_runs=False,
        run_timeout_s=300,
        log_level="WARNING",
    )


async def run_all(config: Settings, runs: int) -> dict[str, Any]:
    container = build_container(config, registry=registry)
    await upgrade(container.db)
    await container.start()
    container.lifecycle.ready = True
    principal = await operator(container.db, DEV_TENANT)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, container.lifecycle.in_flight)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    try:
        outcomes = await asyncio.gather(
            *(
                container.pipeline.run(
                    RunRequest(agent="bench", input="hello", principal=principal)
                )
                for _ in range(runs)
            ),
            return_exceptions=True,
        )
    finally:
        watcher.cancel()
        await container.aclose()
    errors = collections.Counter(
        getattr(o, "code", type(o).__name__) for o in outcomes if isinstance(o, BaseException)
    )
    return {
        "runs": runs,
        "errors": sum(errors.values()),
        "errors_by_code": {str(k): v for k, v in errors.items()},
        "peak_runs_in_flight": peak,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=5000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {SERVER_CORE})
    with MockLLMServer(MockLLMConfig(latency_ms=args.latency_ms)) as mock:
        os.sched_setaffinity(mock.pid, other_cores())
        with tempfile.TemporaryDirectory() as tmp:
            config = settings(Path(tmp), mock.base_url, args.runs)
            result = asyncio.run(run_all(config, args.runs))
        result["mock_completed_calls"] = mock.stats().get("completed_calls")
    result["latency_ms"] = args.latency_ms
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
