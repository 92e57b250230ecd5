"""``agenthost worker`` serves its own metrics on the metrics listener while it runs."""

from __future__ import annotations

import asyncio
import signal

import httpx2
import pytest

from tests.processes import Servers, free_port
from tests.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_worker_serves_its_metrics_and_stops_cleanly(servers: Servers) -> None:
    port = free_port()
    process = servers.worker("metrics-worker", background_runs=True, metrics_port=port)
    scraped: list[httpx2.Response] = []
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

        async def scrape() -> bool:
            assert process.poll() is None, "the worker exited during start-up"
            try:
                scraped.append(await client.get("/metrics"))
            except httpx2.TransportError:
                return False
            return True

        await eventually(scrape, timeout_s=30)
        other = await client.get("/health")
    assert scraped[-1].status_code == 200
    assert "agenthost_runs_in_flight" in scraped[-1].text
    assert other.status_code == 404
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
