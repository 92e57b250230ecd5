"""The peers of the background-run benchmark: DBOS alone, and DBOS with the Agents SDK through
the ``dbos-openai-agents`` integration, drained by a worker process of their own.

    .venv/bin/python -m benchmarks.dbos_peers worker --kind bare|agents --url URL --executor-id ID

``bare``: a workflow with one trivial step, the least a durable run can be. ``agents``: a
workflow that runs an SDK agent on the offline demo model with ``DBOSRunner`` (its model call
is a step), which is what a team would write with DBOS and the SDK and no agenthost. Both use
the queue settings of an ``agenthost worker`` (64 runs at once, polled every 50 ms), so the
three drain under the same rules. The ``agents`` kind needs the integration, installed for
the benchmark only: ``.venv/bin/pip install --no-deps dbos-openai-agents==0.3.0``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Literal

from dbos import DBOS, DBOSClient

Kind = Literal["bare", "agents"]
QUEUE = "peer-runs"
WORKFLOW = "peer.run"
ROOT = Path(__file__).resolve().parents[1]
WORKER_CONCURRENCY = 64
POLL_S = 0.05


def integration_installed() -> bool:
    return importlib.util.find_spec("dbos_openai_agents") is not None


def _workflow(kind: Kind) -> Callable[[str], Coroutine[Any, Any, str]]:
    if kind == "bare":

        async def trivial(text: str) -> str:
            return text.upper()

        async def bare(text: str) -> str:
            return await DBOS.run_step_async({"name": "step"}, trivial, text)

        return bare

    from agents import Agent, set_tracing_disabled
    from dbos_openai_agents import DBOSRunner

    from agenthost.models.demo import DemoModel

    set_tracing_disabled(True)  # the SDK's exporter would send traces to OpenAI
    agent = Agent(name="instant", instructions="Reply.", model=DemoModel())

    async def agents(text: str) -> str:
        result = await DBOSRunner.run(agent, text)
        return str(result.final_output)

    return agents


async def _serve(kind: Kind, url: str, executor_id: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    DBOS(
        config={
            "name": "peer",
            "system_database_url": url,
            "executor_id": executor_id,
            "log_level": "WARNING",
            "run_migrations": False,
        }
    )
    DBOS.workflow(name=WORKFLOW)(_workflow(kind))
    DBOS.launch()
    await DBOS.register_queue_async(
        QUEUE, worker_concurrency=WORKER_CONCURRENCY, polling_interval_sec=POLL_S
    )
    try:
        await stop.wait()
    finally:
        DBOS.destroy(destroy_registry=True)


def worker(kind: Kind, url: str, executor_id: str) -> subprocess.Popen[bytes]:
    """A peer worker process draining the peer queue of the system database ``url``."""
    command = [sys.executable, "-m", "benchmarks.dbos_peers", "worker", "--kind", kind]
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [*command, "--url", url, "--executor-id", executor_id], cwd=ROOT
    )


async def enqueue(url: str, count: int, concurrency: int = 32) -> float:
    """Queue ``count`` peer workflows with a DBOS client, ``concurrency`` at a time; per second."""
    client = DBOSClient(system_database_url=url, application_name="peer")
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            options = {"queue_name": QUEUE, "workflow_name": WORKFLOW}
            await client.enqueue_async(options, f"Where is order {index}?")  # type: ignore[arg-type]

    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (loop.time() - started)
    finally:
        client.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("worker")
    serve.add_argument("--kind", choices=["bare", "agents"], required=True)
    serve.add_argument("--url", required=True)
    serve.add_argument("--executor-id", required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.kind, args.url, args.executor_id))
