"""Shared fixtures: the mock LLM in its own process, and agenthost served over real HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from agenthost.api.app import create_app
from agenthost.jobs.engine import migrate_system_database
from agenthost.registry import AgentRegistry
from agenthost.settings import DeploymentSettings, Settings
from agenthost.store.database import Database
from agenthost.store.migrate import upgrade
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers
from tests.services import create_postgres_database, drop_postgres_database, flushed_redis
from tests.waiting import eventually


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the current schema, migrated once and copied by each test."""
    path = tmp_path_factory.mktemp("template") / "agenthost.db"
    asyncio.run(migrate(f"sqlite:///{path}"))
    return path


def copy_database(template: Path, target: Path) -> None:
    """A copy of a migrated SQLite database, with the DBOS file beside it."""
    shutil.copyfile(template, target)
    shutil.copyfile(template.with_suffix(".dbos.db"), target.with_suffix(".dbos.db"))


async def migrate(url: str) -> None:
    """What ``agenthost db upgrade`` does: our schema, then DBOS's (for background runs)."""
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.aclose()
    await asyncio.to_thread(migrate_system_database, Settings(database_url=url))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (not migrated), dropped after the test."""
    name = f"agenthost_test_{uuid.uuid4().hex[:12]}"
    url = create_postgres_database(name)
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def migrated_postgres(postgres_url: str) -> str:
    asyncio.run(migrate(postgres_url))
    return postgres_url


@pytest.fixture
def redis_url() -> str:
    """The test Redis database, emptied."""
    return flushed_redis()


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> None:
    """Tests never see the developer's keys or settings, so nothing can reach the network.

    Each test gets its own migrated SQLite database, and dev mode (no keys) unless it says
    otherwise: tests of keys and tenants turn it off.
    """
    for name in list(os.environ):
        if name.startswith("AGENTHOST_") or name.startswith("OPENAI_"):
            monkeypatch.delenv(name)
    database = tmp_path_factory.mktemp("db") / "agenthost.db"
    copy_database(migrated_sqlite, database)
    monkeypatch.setenv("AGENTHOST_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("AGENTHOST_DEV_MODE", "true")
    # Background runs start DBOS (one per process): only their own tests turn them on.
    monkeypatch.setenv("AGENTHOST_BACKGROUND_RUNS", "false")


MODEL_CLIENTS = ("lean", "openai")
"""Every deployment client (``DeploymentSettings.client``) the behaviour tests run with."""


class MockLLM(MockLLMServer):
    """The mock LLM plus the client the test's deployments use to reach it."""

    model_client: str = "lean"


BOTH_CLIENTS = (
    "tests.api.test_resilience",
    "tests.api.test_disconnect",
    "tests.api.test_overrides",
    "tests.api.test_sessions",
    "tests.telemetry.test_traces",
    "tests.telemetry.test_metrics",
    "tests.security.test_planted_secrets",
)
"""The behaviour tests of the model path (errors, retries, failover, streams and their
cancellation, history, spans, metrics, key rotation), run once per deployment client. Every
other test reaching the mock uses the default client (lean), whose own tests are in
``tests/models``: running the whole suite twice would double its time for no new behaviour."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The tests of :data:`BOTH_CLIENTS` that reach the mock LLM run once per client."""
    if "mock_llm" in metafunc.fixturenames and metafunc.module.__name__ in BOTH_CLIENTS:
        metafunc.parametrize("model_client", MODEL_CLIENTS)


@pytest.fixture
def model_client() -> str:
    """The deployment client of a test not parametrized over them."""
    return "lean"


@pytest.fixture(scope="session")
def mock_llm_server() -> Iterator[MockLLM]:
    with MockLLM() as server:
        yield server


@pytest.fixture
def servers(mock_llm: MockLLMServer) -> Iterator[Servers]:
    """Start ``agenthost serve`` processes; those still running are killed after the test."""
    started = Servers(mock_llm)
    yield started
    started.kill_all()


@pytest.fixture
def mock_llm(mock_llm_server: MockLLM, model_client: str) -> MockLLM:
    """The session's mock LLM with its fault queue, latency and counters reset."""
    mock_llm_server.reset()
    mock_llm_server.model_client = model_client
    return mock_llm_server


def client_for(mock: MockLLMServer, api: str = "chat_completions") -> Any:
    """The ``client`` setting of a deployment in front of ``mock`` (the test's, where it
    speaks Chat Completions)."""
    return getattr(mock, "model_client", None) if api == "chat_completions" else None


def mock_settings(mock: MockLLMServer, **overrides: Any) -> Settings:
    """Settings whose only deployment is the mock LLM; fast retries unless overridden."""
    api = overrides.pop("api", "chat_completions")
    values: dict[str, Any] = {
        "deployments": [
            DeploymentSettings(
                name="mock",
                model="mock-gpt",
                serves=["*"],
                base_url=mock.base_url,
                api=api,
                client=client_for(mock, api),
            )
        ],
        "retry_base_delay_s": 0.01,
        "retry_max_delay_s": 0.05,
        "access_log": False,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done())
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


ClientFactory = Callable[..., Any]


@pytest.fixture
def agenthost_client(
    mock_llm: MockLLMServer,
) -> Callable[..., Any]:
    """``async with agenthost_client(registry, **settings) as (client, app):`` over real HTTP."""

    @asynccontextmanager
    async def start(
        registry: AgentRegistry, **overrides: Any
    ) -> AsyncIterator[tuple[httpx2.AsyncClient, Any]]:
        app = create_app(mock_settings(mock_llm, **overrides), registry=registry)
        async with serving(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as client:
            yield client, app

    return start
