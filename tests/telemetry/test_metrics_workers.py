"""The metrics listener of ``agenthost serve --workers 2`` (served by worker 0, from a socket the
supervisor bound) counts the runs of both worker processes; the API port serves no metrics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx2
import pytest
from tests.processes import Servers, free_port, wait_ready
from tests.telemetry.scrape import samples
from tests.waiting import eventually

pytestmark = pytest.mark.integration

BATCH = 8
MAX_BATCHES = 10
TOKEN = "scrape-token"


def pids_of_runs(log: Path) -> dict[str, int]:
    """run_id → pid of the worker that settled it, from the JSON log lines."""
    found = {}
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("message") == "run succeeded":
                found[record["run_id"]] = record["pid"]
    return found


async def test_metrics_add_up_across_two_workers(servers: Servers, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        metrics_port = free_port()
        process, url = servers.start(
            workers=2, log=log, metrics_port=metrics_port, metrics_token=TOKEN
        )
        async with (
            httpx2.AsyncClient(base_url=url, timeout=30) as client,
            httpx2.AsyncClient(
                base_url=f"http://127.0.0.1:{metrics_port}",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            ) as scraper,
        ):
            await wait_ready(client, process)
            assert (await client.get("/metrics")).status_code == 404  # not on the API port
            assert (await scraper.get("/metrics", headers={"Authorization": ""})).status_code == 401
            runs = []
            # Concurrent slow runs, until the logs show both workers settled some.
            for _ in range(MAX_BATCHES):
                batch = await asyncio.gather(
                    *(
                        client.post(
                            "/v1/agents/echo/runs",
                            json={"input": f"hi [[sleep:200]] {i}"},
                            # A connection per run, so both workers get to accept some.
                            headers={"connection": "close"},
                        )
                        for i in range(BATCH)
                    )
                )
                assert [r.status_code for r in batch] == [200] * BATCH
                runs += [r.json() for r in batch]
                log.flush()
                if len(set(pids_of_runs(log_path).values())) == 2:
                    break
            route = frozenset(
                {("method", "POST"), ("route", "/v1/agents/{agent}/runs"), ("status", "200")}
            )

            scrapes: list[str] = []

            async def all_requests_counted() -> bool:
                # A request is counted once its response is sent: the last ones may still be
                # on their way into the counter when the client has read them.
                response = await scraper.get("/metrics")
                assert response.status_code == 200
                scrapes.append(response.text)
                counted = samples(response.text).get(("agenthost_http_requests_total", route))
                return counted == len(runs)

            await eventually(all_requests_counted)
    by_worker = pids_of_runs(log_path)
    assert len(set(by_worker.values())) == 2, "both workers served runs"
    assert set(by_worker) == {r["run_id"] for r in runs}
    values = samples(scrapes[-1])
    ok = frozenset({("agent", "echo"), ("tenant", "dev"), ("status", "succeeded")})
    assert values[("agenthost_runs_total", ok)] == len(runs)
    for kind in ("input", "output"):
        labels = frozenset({("agent", "echo"), ("tenant", "dev"), ("kind", kind)})
        assert values[("agenthost_tokens_total", labels)] == sum(
            r["usage"][f"{kind}_tokens"] for r in runs
        )
    calls = frozenset({("deployment", "mock"), ("model", "mock-gpt"), ("outcome", "ok")})
    assert values[("agenthost_model_calls_total", calls)] == len(runs)
    assert values[("agenthost_runs_in_flight", frozenset())] == 0
    assert values[("agenthost_http_requests_total", route)] == len(runs)


def metrics_servers(log: Path) -> list[int]:
    """Pids of the processes that started serving the metrics listener, in order."""
    return [
        json.loads(line)["pid"]
        for line in log.read_text().splitlines()
        if line.startswith("{")
        and json.loads(line).get("message", "").startswith("serving metrics")
    ]


async def test_a_replaced_worker_zero_takes_the_metrics_listener_over(
    servers: Servers, tmp_path: Path
) -> None:
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        metrics_port = free_port()
        process, url = servers.start(workers=2, log=log, metrics_port=metrics_port)
        async with httpx2.AsyncClient(base_url=url, timeout=30) as client:
            await wait_ready(client, process)
            run = await client.post("/v1/agents/echo/runs", json={"input": "hi"})
            assert run.status_code == 200
            await eventually(lambda: len(metrics_servers(log_path)) == 1)
            (first,) = metrics_servers(log_path)
            os.kill(first, signal.SIGKILL)
            # Restarting a worker takes a while on a busy machine.
            await eventually(lambda: len(metrics_servers(log_path)) == 2, timeout_s=60)
            # A connection per scrape: the killed worker's connections are gone.
            async with httpx2.AsyncClient(
                base_url=f"http://127.0.0.1:{metrics_port}", headers={"connection": "close"}
            ) as scraper:
                scraped = await scraper.get("/metrics")
    assert metrics_servers(log_path)[1] != first
    assert scraped.status_code == 200
    ok = frozenset({("agent", "echo"), ("tenant", "dev"), ("status", "succeeded")})
    assert samples(scraped.text)[("agenthost_runs_total", ok)] == 1  # the dead worker's count
