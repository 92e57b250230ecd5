"""Each deployment gets the client its settings choose; the provider closes them all."""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI

from agenthost.models.lean_client import LeanChatClient
from agenthost.models.provider import AgentHostModelProvider
from agenthost.security.secrets import build_secret_store
from agenthost.settings import DeploymentSettings, Settings
from agenthost.telemetry.metrics import Metrics


def deployment(name: str, **fields: Any) -> DeploymentSettings:
    return DeploymentSettings(name=name, model="m", base_url="http://127.0.0.1:9/v1", **fields)


@pytest.mark.parametrize(
    ("fields", "client_type"),
    [
        ({}, LeanChatClient),
        ({"client": "lean"}, LeanChatClient),
        ({"client": "openai"}, AsyncOpenAI),
        ({"api": "responses"}, AsyncOpenAI),
    ],
)
async def test_the_deployment_chooses_its_client_and_shutdown_closes_it(
    fields: dict[str, Any], client_type: type
) -> None:
    settings = Settings(deployments=[deployment("d", **fields)])
    provider = AgentHostModelProvider(settings, build_secret_store(settings), Metrics())
    (client,) = provider._clients.values()
    assert isinstance(client, client_type)
    pool = client.pool if isinstance(client, LeanChatClient) else client._client
    await provider.aclose()
    assert pool.is_closed
