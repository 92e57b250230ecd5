"""The lean client's pool honours the deployment's limits and timeouts."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx2
import openai
import pytest
from agents import ModelSettings
from agents.models.interface import ModelTracing
from tests.models.pools import pool
from tests.waiting import eventually

from agenthost.models.clients import build_client
from agenthost.models.lean_chat import LeanChatCompletionsModel
from agenthost.models.lean_client import LeanChatClient
from agenthost.models.lean_http import env_proxy, request_timeout
from agenthost.settings import DeploymentSettings
from agenthost.testing.mock_llm import MockLLMServer


@pytest.fixture
def mock(mock_llm_server: MockLLMServer) -> MockLLMServer:
    mock_llm_server.reset()
    return mock_llm_server


async def key() -> str:
    return "test-key"


async def ask(model: LeanChatCompletionsModel, text: str, **settings: object) -> object:
    return await model.get_response(
        system_instructions=None,
        input=text,
        model_settings=ModelSettings(**settings),  # type: ignore[arg-type]
        tools=[],
        output_schema=None,
        handoffs=[],
        tracing=ModelTracing.DISABLED,
    )


def test_the_deployment_settings_become_the_connector_and_timeouts() -> None:
    deployment = DeploymentSettings(
        name="d",
        model="m",
        base_url="http://127.0.0.1:9/v1",
        max_connections=7,
        keepalive_expiry_s=3.0,
        connect_timeout_s=2.0,
        read_timeout_s=30.0,
        pool_timeout_s=4.0,
    )
    client = build_client(deployment, key)
    assert isinstance(client, LeanChatClient)
    limits = client.pool.limits
    assert (limits.max_connections, limits.keepalive_expiry_s) == (7, 3.0)
    assert limits.timeout() == aiohttp.ClientTimeout(
        total=None, connect=6.0, sock_connect=2.0, sock_read=30.0
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, aiohttp.ClientTimeout(total=None)),
        (2, aiohttp.ClientTimeout(total=None, connect=4.0, sock_connect=2.0, sock_read=2.0)),
        (
            httpx2.Timeout(10.0, connect=1.0, pool=3.0),
            aiohttp.ClientTimeout(total=None, connect=4.0, sock_connect=1.0, sock_read=10.0),
        ),
        (
            httpx2.Timeout(None, connect=1.0),
            aiohttp.ClientTimeout(total=None, connect=None, sock_connect=1.0, sock_read=None),
        ),
    ],
)
def test_a_request_timeout_as_the_openai_client_takes_it(
    value: object, expected: aiohttp.ClientTimeout
) -> None:
    assert request_timeout(value) == expected


def test_a_request_timeout_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="timeout"):
        request_timeout("soon")


async def test_a_call_waiting_longer_than_the_pool_timeout_times_out(
    mock: MockLLMServer,
) -> None:
    limits = {"max_connections": 1, "pool_timeout_s": 0.2, "connect_timeout_s": 0.2}
    client = LeanChatClient(pool(**limits), key, mock.base_url)
    model = LeanChatCompletionsModel("mock-gpt", client)
    try:
        holder = asyncio.create_task(ask(model, "[[sleep:5000]] hold the only connection"))
        await eventually(lambda: mock.stats()["in_flight"] == 1)
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            await ask(model, "no connection left for me")
        assert time.monotonic() - started < 2.0
        assert mock.stats()["total_requests"] == 1  # the second call never reached it
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder
        await ask(model, "the connection is free again")
    finally:
        await client.close()


async def test_a_per_call_timeout_applies(mock: MockLLMServer) -> None:
    client = LeanChatClient(pool(), key, mock.base_url)
    try:
        with pytest.raises(openai.APITimeoutError):
            await ask(
                LeanChatCompletionsModel("mock-gpt", client),
                "hi [[fault:hang]]",
                extra_args={"timeout": 0.3},
            )
    finally:
        await client.close()


async def test_a_closed_pool_takes_no_requests() -> None:
    http = pool()
    assert http.session is http.session
    await http.close()
    assert http.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        _ = http.session


def test_the_proxy_comes_from_the_environment_as_for_the_openai_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert env_proxy("http://models.internal/v1/chat/completions") == (None, None)
    monkeypatch.setenv("HTTP_PROXY", "http://user:secret@127.0.0.1:3128")
    proxy, auth = env_proxy("http://models.internal/v1/chat/completions")
    assert str(proxy) == "http://127.0.0.1:3128"
    assert auth is not None and (auth.login, auth.password) == ("user", "secret")
    monkeypatch.setenv("NO_PROXY", "models.internal")
    assert env_proxy("http://models.internal/v1/chat/completions") == (None, None)
