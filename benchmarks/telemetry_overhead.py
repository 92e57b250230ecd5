"""What tracing and metrics cost per run: the same runs with tracing off, on (spans made,
nothing exported), and on with every span exported (batched, to memory).

    .venv/bin/python -m benchmarks.telemetry_overhead [--runs 300] [--rounds 3]

Each run is the example ``triage`` agent through the whole pipeline in this process
(admission, run record, deadline, runner, model layer, settlement, metrics) against the mock
LLM in its own process: three model calls, a handoff and a tool, about 17 spans. Runs go one
at a time, so the figures are per run; every configuration gets the same runs, alternating
rounds. Reports the median and mean wall time and the CPU time of this process per run. JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agenthost.container import build_container
from agenthost.execution.types import RunRequest
from agenthost.registry import load_registry
from agenthost.settings import Settings
from agenthost.store.migrate import upgrade
from agenthost.tenancy.auth import operator
from agenthost.tenancy.principal import DEV_TENANT
from agenthost.testing.mock_llm.server import MockLLMServer

CONFIGURATIONS = ("tracing off", "tracing on, not exported", "tracing on, exported")
INPUT = "Is invoice INV-42 paid?"


def _settings(directory: Path, mock_url: str, tracing: bool) -> Settings:
    deployment = {"name": "mock", "model": "mock-gpt", "serves": ["*"], "base_url": mock_url}
    return Settings(
        database_url=f"sqlite:///{directory / 'agenthost.db'}",
        deployments=[deployment],
        dev_mode=True,
        background_runs=False,
        tracing_enabled=tracing,
        log_level="WARNING",
    )


async def _round(settings: Settings, configuration: str, runs: int) -> list[tuple[float, float]]:
    """(wall s, CPU s) of each of ``runs`` runs, one after the other."""
    container = build_container(settings, registry=load_registry("examples.registry:registry"))
    if configuration == "tracing on, exported":
        container.tracing.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    await upgrade(container.db)
    await container.start()
    container.lifecycle.ready = True
    try:
        principal = await operator(container.db, DEV_TENANT)
        samples = []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            await container.pipeline.run(
                RunRequest(agent="triage", input=INPUT, principal=principal)
            )
            samples.append((time.perf_counter() - wall, time.process_time() - cpu))
        return samples
    finally:
        await container.aclose()


async def main(runs: int, rounds: int) -> dict[str, Any]:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in CONFIGURATIONS}
    with MockLLMServer() as mock, tempfile.TemporaryDirectory() as directory:
        for _ in range(rounds):
            for name in CONFIGURATIONS:
                tracing = name != "tracing off"
                settings = _settings(Path(directory), mock.base_url, tracing)
                results[name] += await _round(settings, name, runs)
    report: dict[str, Any] = {"runs_per_configuration": runs * rounds}
    for name, samples in results.items():
        walls = [wall * 1000 for wall, _ in samples]
        cpus = [cpu * 1000 for _, cpu in samples]
        report[name] = {
            "median_ms": round(statistics.median(walls), 2),
            "mean_ms": round(statistics.fmean(walls), 2),
            "cpu_ms_per_run": round(statistics.fmean(cpus), 2),
        }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.rounds)), indent=2))
