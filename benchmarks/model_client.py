"""CPU per model call of a deployment's two clients: the openai package's and the lean one.

    .venv/bin/python -m benchmarks.model_client [--calls 500] [--rounds 5] [--concurrency 32]

Both models are built as agenthost builds them for a deployment (``DeploymentSettings.client``
``openai`` or ``lean``, ``api = "chat_completions"``) and call ``agenthost mock-llm`` in its
own process, in this process and event loop, with tracing off, offering one tool (the SDK's
request conversion runs either way). Three ways to call: ``calls`` sequential
``get_response``, ``calls`` concurrent ones (at most ``concurrency`` at once), and ``calls``
sequential ``stream_response`` drained to the end. Rounds alternate the clients. Reports, per
client and way, the median over rounds of this process's CPU time (user + system) per call
and of the wall time per call, and the lean client's share of the openai client's CPU. JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agents import ModelSettings, function_tool
from agents.models.interface import Model, ModelTracing

from agenthost.models.clients import ModelClient, build_client, build_model
from agenthost.settings import DeploymentSettings
from agenthost.testing.mock_llm.server import MockLLMServer

CLIENTS = ("openai", "lean")
WAYS = ("sequential", "concurrent", "streamed")
INPUT = "Say hello to the benchmark"


@function_tool
def get_invoice_status(invoice_id: str) -> str:
    """Look up whether an invoice has been paid."""
    return f"{invoice_id}: paid"


async def _key() -> str:
    return "benchmark-key"


async def _call(model: Model) -> None:
    await model.get_response(
        system_instructions="Answer briefly.",
        input=INPUT,
        model_settings=ModelSettings(),
        tools=[get_invoice_status],
        output_schema=None,
        handoffs=[],
        tracing=ModelTracing.DISABLED,
    )


async def _stream(model: Model) -> None:
    events = model.stream_response(
        system_instructions="Answer briefly.",
        input=INPUT,
        model_settings=ModelSettings(include_usage=True),
        tools=[get_invoice_status],
        output_schema=None,
        handoffs=[],
        tracing=ModelTracing.DISABLED,
    )
    async for _ in events:
        pass


async def _way(model: Model, way: str, calls: int, concurrency: int) -> None:
    if way == "concurrent":
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await _call(model)

        await asyncio.gather(*(one() for _ in range(calls)))
        return
    step: Callable[[Model], Awaitable[None]] = _stream if way == "streamed" else _call
    for _ in range(calls):
        await step(model)


async def _round(
    mock_url: str, client_kind: str, way: str, calls: int, concurrency: int
) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of one round, after a short warm-up on the same client."""
    deployment = DeploymentSettings(
        name="bench",
        model="mock-gpt",
        base_url=mock_url,
        client=client_kind,  # type: ignore[arg-type]
    )
    client: ModelClient = build_client(deployment, _key)
    model = build_model(deployment, client, "mock-gpt")
    try:
        await _way(model, way, min(calls, 20), concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        await _way(model, way, calls, concurrency)
        return (
            (time.process_time() - cpu) * 1000 / calls,
            (time.perf_counter() - wall) * 1000 / calls,
        )
    finally:
        await client.close()


async def main(calls: int, rounds: int, concurrency: int) -> dict[str, Any]:
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        (client, way): [] for client in CLIENTS for way in WAYS
    }
    with MockLLMServer() as mock:
        for _ in range(rounds):
            for way in WAYS:
                for client in CLIENTS:
                    samples[client, way].append(
                        await _round(mock.base_url, client, way, calls, concurrency)
                    )
    report: dict[str, Any] = {"calls_per_round": calls, "rounds": rounds}
    for way in WAYS:
        row: dict[str, Any] = {}
        for client in CLIENTS:
            cpus = [cpu for cpu, _ in samples[client, way]]
            walls = [wall for _, wall in samples[client, way]]
            row[client] = {
                "cpu_ms_per_call": round(statistics.median(cpus), 3),
                "wall_ms_per_call": round(statistics.median(walls), 3),
            }
        row["lean_cpu_share"] = round(
            row["lean"]["cpu_ms_per_call"] / row["openai"]["cpu_ms_per_call"], 2
        )
        report[way] = row
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.calls, args.rounds, args.concurrency)), indent=2))
