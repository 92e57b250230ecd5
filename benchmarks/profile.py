"""Where agenthost's CPU goes under load: a py-spy profile of one pinned server.

    .venv/bin/python -m benchmarks.profile [--agent bench|bench_cached] [--seconds 10]
        [--postgres] [--out DIR]

Starts the mock LLM and ``agenthost serve`` as ``benchmarks.overhead`` does, loads it with
``wrk -c32`` while ``py-spy record`` samples it, and prints the share of samples by area
(by the innermost frame that belongs to a known area: the database layer, the model client,
the SDK, the framework, each agenthost package). ``DIR`` keeps the collapsed stacks
(``profile.txt``, the input of flame graph tools). Needs ``py-spy``
(``.venv/bin/pip install py-spy``) and permission to attach to a child process. Samples of a
thread waiting in ``epoll`` or on a lock may be counted (py-spy cannot always tell idle).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from agenthost.testing.mock_llm.server import MockLLMServer
from benchmarks.overhead import BODY, agenthost_database, agenthost_env, agenthost_server
from benchmarks.support import other_cores, python, wrk

AREAS: tuple[tuple[str, str], ...] = (
    ("agenthost/store/", "agenthost: store"),
    ("agenthost/tenancy/", "agenthost: tenancy"),
    ("agenthost/execution/", "agenthost: pipeline"),
    ("agenthost/api/", "agenthost: api"),
    ("agenthost/models/", "agenthost: models"),
    ("agenthost/telemetry/", "agenthost: telemetry"),
    ("agenthost/cache/", "agenthost: cache"),
    ("agenthost/", "agenthost: other"),
    ("sqlalchemy/", "database: SQLAlchemy"),
    ("aiosqlite/", "database: aiosqlite"),
    ("asyncpg/", "database: asyncpg"),
    ("greenlet", "database: greenlet"),
    ("sqlite3", "database: sqlite3"),
    ("openai/", "model client: openai"),
    ("aiohttp/", "model client: aiohttp"),
    ("yarl/", "model client: aiohttp"),
    ("multidict/", "model client: aiohttp"),
    ("httpx2/", "model client: httpx"),
    ("httpcore2/", "model client: httpx"),
    ("httpx/", "model client: httpx"),
    ("httpcore/", "model client: httpx"),
    ("agents/", "Agents SDK"),
    ("opentelemetry/", "OpenTelemetry"),
    ("prometheus_client/", "Prometheus"),
    ("limits/", "rate limits"),
    ("uvicorn/", "HTTP server"),
    ("h11/", "HTTP server"),
    ("httptools", "HTTP server"),
    ("starlette/", "framework"),
    ("fastapi/", "framework"),
    ("pydantic", "pydantic"),
    ("asyncio/", "asyncio"),
    ("uvloop", "asyncio"),
    ("logging/", "logging"),
    ("structlog/", "logging"),
)


def area(stack: str) -> str:
    """The area of the innermost frame of ``stack`` that belongs to a known area."""
    for frame in reversed(stack.split(";")):
        for marker, name in AREAS:
            if marker in frame:
                return name
    return "other"


def summarise(collapsed: Path) -> list[tuple[str, float]]:
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():  # a frame name with a newline in it (generated code)
            continue
        counts[area(stack)] += int(samples)
    total = sum(counts.values()) or 1
    return [(name, 100 * n / total) for name, n in counts.most_common()]


def profile(agent: str, seconds: float, postgres: bool, out: Path) -> None:
    spy = shutil.which("py-spy", path=str(Path(python()).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is needed: .venv/bin/pip install py-spy")
    with MockLLMServer() as mock, tempfile.TemporaryDirectory() as tmp:
        os.sched_setaffinity(mock.pid, other_cores())
        with (
            agenthost_database(Path(tmp), postgres) as database_url,
            agenthost_server(agenthost_env(database_url, mock.base_url)) as (server, base, auth),
        ):
            url = f"{base}/v1/agents/{agent}/runs"
            wrk(url, BODY, connections=32, seconds=2, headers=auth)  # warm-up
            recorder = subprocess.Popen(  # noqa: S603
                [spy, "record", "--pid", str(server.pid), "--rate", "250",
                 "--duration", str(int(seconds)), "--format", "raw",
                 "--output", str(out / "profile.txt"), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            load = wrk(url, BODY, connections=32, seconds=seconds, headers=auth)
            recorder.wait(timeout=seconds + 60)
    print(f"{agent}: {load.rps:.0f} requests/s at c=32 while sampled ({load.errors} errors)")
    for name, share in summarise(out / "profile.txt"):
        print(f"{share:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agent", default="bench", choices=["bench", "bench_cached"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "agenthost-prof")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    profile(args.agent, args.seconds, args.postgres, args.out)
    print(f"collapsed stacks: {args.out / 'profile.txt'}")


if __name__ == "__main__":
    main()
