"""schemathesis over every route of the OpenAPI document, with a key holding every scope (of an
operator tenant) and with none.

The server runs for real on loopback (in a thread of this process, with the offline demo
model and its own SQLite copy). Bounded: a fixed number of derandomized examples per
operation. Any 5xx, or a response that breaks the documented schema, fails.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from examples.registry import registry as example_registry
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agenthost.api.app import create_app
from agenthost.container import build_container
from agenthost.settings import Settings
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.specs import KeyCreate, Scope, TenantCreate
from tests.conftest import copy_database

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
UNLIMITED = "1000000/minute"


def _settings(database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        demo_model=True,
        dev_mode=False,
        access_log=False,
        log_level="ERROR",
        rate_limit_per_key=UNLIMITED,
        rate_limit_per_tenant=UNLIMITED,
        rate_limit_per_ip=UNLIMITED,
    )


async def _operator_key(settings: Settings) -> str:
    container = build_container(settings)
    try:
        await container.admin.create_tenant(
            TenantCreate(id="ops"), actor=Actor.cli(), operator=True
        )
        _, key = await container.admin.create_key(
            "ops", KeyCreate(scopes=list(Scope)), actor=Actor.cli()
        )
        return key
    finally:
        await container.aclose()


class _ThreadedServer:
    """uvicorn on a free loopback port, in a thread with its own event loop."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def __enter__(self) -> _ThreadedServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            self._thread.join(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self._sock.close()


@pytest.fixture(scope="module")
def served(
    migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(base URL, operator key)`` of a server shared by this module's operations."""
    database = tmp_path_factory.mktemp("fuzz") / "agenthost.db"
    copy_database(migrated_sqlite, database)  # background runs stay on: their routes too
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in __import__("os").environ if n.startswith("AGENTHOST_")]:
            patch.delenv(name)
        config = _settings(database)
        key = asyncio.run(_operator_key(config))
        with _ThreadedServer(create_app(config, registry=example_registry)) as server:
            yield server.url, key


def _failures_of(
    operation: Any, mode: GenerationMode, url: str, key: str, calls: list[int]
) -> dict[str, str]:
    """Distinct failures (by operation, caller and kind), each with one example."""
    failures: dict[str, str] = {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        for who, headers in (("key", {"Authorization": f"Bearer {key}"}), ("no key", {})):
            calls.append(1)
            try:
                case.call_and_validate(base_url=url, checks=CHECKS, headers=headers)
            except BaseExceptionGroup as group:
                kinds = sorted({getattr(e, "title", type(e).__name__) for e in group.exceptions})
                failures.setdefault(f"{operation.label} ({who}): {', '.join(kinds)}", str(group))
            except AssertionError as exc:
                failures.setdefault(f"{operation.label} ({who}): {exc}", str(exc))

    try:
        check()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        assert mode is GenerationMode.NEGATIVE
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# schemathesis' own strategies use `random` internally; that is its business, not ours.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_every_route_honours_its_schema(served: tuple[str, str], mode: GenerationMode) -> None:
    url, key = served
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    calls: list[int] = []
    failures: dict[str, str] = {}
    for operation in operations:
        failures.update(_failures_of(operation, mode, url, key, calls))
    print(f"{len(operations)} operations, {len(calls)} requests")
    assert not failures, "\n\n".join(f"{kind}\n{example}" for kind, example in failures.items())
