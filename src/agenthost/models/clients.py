"""One pooled client per model deployment, built once and closed on shutdown.

The lean client's connections are an aiohttp session (:mod:`agenthost.models.lean_http`); the
openai client's an ``httpx2.AsyncClient``, as the openai package requires.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx2
from agents.models.interface import Model
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from agenthost.models.lean_chat import LeanChatCompletionsModel
from agenthost.models.lean_client import LeanChatClient
from agenthost.models.lean_http import HttpPool, PoolLimits
from agenthost.settings import DeploymentSettings

KeySource = Callable[[], Awaitable[str]]
"""Returns the API key to send; the client asks before every request."""
NO_KEY = "not-set"
"""Sent when no key is configured (local endpoints that need none)."""

ModelClient = AsyncOpenAI | LeanChatClient
"""A deployment's client: the lean one or the openai package's (``DeploymentSettings.client``)."""


def build_http_client(deployment: DeploymentSettings) -> httpx2.AsyncClient:
    """The openai client's connection pool, with the deployment's limits and timeouts."""
    return httpx2.AsyncClient(
        limits=httpx2.Limits(
            max_connections=deployment.max_connections,
            max_keepalive_connections=deployment.max_keepalive_connections,
            keepalive_expiry=deployment.keepalive_expiry_s,
        ),
        timeout=httpx2.Timeout(
            deployment.read_timeout_s,
            connect=deployment.connect_timeout_s,
            pool=deployment.pool_timeout_s,
        ),
    )


def build_http_pool(deployment: DeploymentSettings) -> HttpPool:
    """The lean client's connection pool, with the deployment's limits and timeouts."""
    return HttpPool(PoolLimits.of(deployment))


def build_client(deployment: DeploymentSettings, api_key: KeySource) -> ModelClient:
    """The deployment's client over its own pool; the openai client's retries are off (ours
    run)."""
    if deployment.lean_client:
        return LeanChatClient(build_http_pool(deployment), api_key, deployment.base_url)
    return AsyncOpenAI(
        api_key=api_key,
        base_url=deployment.base_url,
        max_retries=0,
        http_client=build_http_client(deployment),
    )


def build_model(deployment: DeploymentSettings, client: ModelClient, model_name: str) -> Model:
    """The SDK model speaking the deployment's API through ``client``."""
    upstream = model_name if deployment.model == "*" else deployment.model
    if isinstance(client, LeanChatClient):
        return LeanChatCompletionsModel(model=upstream, client=client)
    if deployment.api == "responses":
        return OpenAIResponsesModel(model=upstream, openai_client=client)
    return OpenAIChatCompletionsModel(model=upstream, openai_client=client)
