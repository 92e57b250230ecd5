"""``/metrics`` is off the public surface: served on the metrics listener (``metrics_port``),
on the API port only when a setting allows it, and behind ``metrics_token`` when one is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest

from agenthost.api.app import create_app
from agenthost.api.metrics_listener import MetricsListener, bind_metrics_socket
from agenthost.container import build_container
from agenthost.settings import ConfigError, Settings
from tests.api.agents import ToolLog, build_registry
from tests.api.serving import served
from tests.conftest import mock_settings
from tests.processes import free_port

TOKEN = "metrics-token-for-tests"


@asynccontextmanager
async def serving(
    mock_llm: Any, **overrides: Any
) -> AsyncIterator[tuple[httpx2.AsyncClient, httpx2.AsyncClient | None]]:
    """Clients of the API port and of the metrics listener (None when there is none)."""
    settings = mock_settings(mock_llm, **overrides)
    container = build_container(settings, registry=build_registry(ToolLog()))
    app = create_app(settings, container=container)
    sock = bind_metrics_socket(settings)
    listener = MetricsListener(container, sock) if sock else None
    async with (
        served(settings, app, listener) as (url, _),
        httpx2.AsyncClient(base_url=url) as api,
    ):
        if sock is None:
            yield api, None
            return
        metrics_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx2.AsyncClient(base_url=metrics_url) as metrics:
            yield api, metrics


async def test_the_api_port_does_not_serve_metrics_by_default(mock_llm: Any) -> None:
    async with serving(mock_llm, dev_mode=False) as (api, metrics):
        refused = await api.get("/metrics")
        document = (await api.get("/openapi.json")).json()
    assert metrics is None  # no listener outside production unless metrics_port is set
    assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
    assert "/metrics" not in document["paths"]


async def test_the_metrics_listener_serves_only_metrics(mock_llm: Any) -> None:
    async with serving(mock_llm, metrics_port=free_port()) as (api, metrics):
        assert metrics is not None
        run = await api.post("/v1/agents/echo/runs", json={"input": "hi"})
        scraped = await metrics.get("/metrics")
        other = await metrics.get("/v1/agents")
        posted = await metrics.post("/metrics")
        on_api = await api.get("/metrics")
    assert run.status_code == 200
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert 'agenthost_runs_total{agent="echo",status="succeeded",tenant="dev"} 1.0' in scraped.text
    assert other.status_code == 404 and other.json()["code"] == "NOT_FOUND"
    assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"
    assert on_api.status_code == 404


async def test_the_metrics_token_is_asked_on_both_ports(mock_llm: Any) -> None:
    settings = {"metrics_port": free_port(), "metrics_token": TOKEN, "metrics_public": True}
    async with serving(mock_llm, **settings) as (api, metrics):
        assert metrics is not None
        good = {"Authorization": f"Bearer {TOKEN}"}
        answers = {
            "listener, no token": await metrics.get("/metrics"),
            "listener, wrong token": await metrics.get(
                "/metrics", headers={"Authorization": "Bearer nope"}
            ),
            "api, no token": await api.get("/metrics"),
            "api, an API key header": await api.get("/metrics", headers={"X-API-Key": TOKEN}),
        }
        listener_ok = await metrics.get("/metrics", headers=good)
        api_ok = await api.get("/metrics", headers=good)
    for where, answer in answers.items():
        assert answer.status_code == 401, where
        assert answer.json()["code"] == "UNAUTHENTICATED", where
        assert answer.headers["www-authenticate"].startswith("Bearer"), where
    assert listener_ok.status_code == 200 and "agenthost_runs_in_flight" in listener_ok.text
    assert api_ok.status_code == 200


async def test_metrics_public_serves_the_api_port_without_a_token(mock_llm: Any) -> None:
    async with serving(mock_llm, metrics_public=True) as (api, _):
        scraped = await api.get("/metrics")
    assert scraped.status_code == 200 and "agenthost_http_requests_total" in scraped.text


def test_production_listens_on_9100_unless_told_otherwise() -> None:
    assert Settings(dev_mode=False, environment="production").metrics_listener_port == 9100
    assert (
        Settings(dev_mode=False, environment="production", metrics_port=0).metrics_listener_port
        is None
    )
    assert (
        Settings(
            dev_mode=False, environment="production", metrics_enabled=False
        ).metrics_listener_port
        is None
    )
    assert Settings().metrics_listener_port is None
    assert Settings(metrics_port=9200).metrics_listener_port == 9200
    with pytest.raises(ValueError, match="metrics_port must differ from port"):
        Settings(metrics_port=8000)


def test_a_metrics_port_in_use_stops_start_up() -> None:
    taken = bind_metrics_socket(Settings(metrics_port=free_port()))
    assert taken is not None
    try:
        with pytest.raises(ConfigError, match=r"cannot serve metrics on 127\.0\.0\.1:\d+"):
            bind_metrics_socket(Settings(metrics_port=taken.getsockname()[1]))
    finally:
        taken.close()


async def test_a_metrics_token_alone_does_not_open_the_api_port(mock_llm: Any) -> None:
    async with serving(mock_llm, metrics_token=TOKEN) as (api, _):
        refused = await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 404
