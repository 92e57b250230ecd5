"""A real ``agenthost serve`` process as the Agents SDK's model provider: the hosted weather
agent calling its tool on the mock LLM, then the tenant's monthly quota and a bad key surfacing
as the ``openai`` client's own exceptions."""

from __future__ import annotations

import httpx2
import openai
import pytest
from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, RunConfig, Runner
from openai import AsyncOpenAI

from agenthost.container import build_container
from agenthost.settings import Settings
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.specs import KeyCreate, TenantCreate
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers, wait_ready

SETTINGS = {"agents": "examples.registry:registry", "dev_mode": "false", "log_level": "WARNING"}
OFFLINE = RunConfig(tracing_disabled=True)
QUESTION = "What is the weather in Paris?"
PARIS = "The weather in Paris today: light rain, 14 °C."


async def _tenant_key(runs_per_month: int) -> str:
    """A tenant and its key, made in the database the server will use (the test's own)."""
    container = build_container(Settings())
    try:
        spec = TenantCreate(id="acme", runs_per_month=runs_per_month)
        await container.admin.create_tenant(spec, actor=Actor.cli())
        _, key = await container.admin.create_key("acme", KeyCreate(), actor=Actor.cli())
        return key
    finally:
        await container.aclose()


async def test_the_sdk_runs_on_a_served_agent_until_the_quota(
    servers: Servers, mock_llm: MockLLMServer
) -> None:
    key = await _tenant_key(runs_per_month=2)
    process, url = servers.start(**SETTINGS)
    async with httpx2.AsyncClient(base_url=url) as probe:
        await wait_ready(probe, process)
    client = AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    stranger = AsyncOpenAI(base_url=f"{url}/v1", api_key="ahk_wrong", max_retries=0)
    async with client, stranger:
        models = await client.models.list()
        responses = Agent(name="front", model=OpenAIResponsesModel("agent:weather", client))
        chat = Agent(name="front", model=OpenAIChatCompletionsModel("weather", client))
        streamed = Runner.run_streamed(responses, QUESTION, run_config=OFFLINE)
        async for _ in streamed.stream_events():
            pass
        plain = await Runner.run(chat, QUESTION, run_config=OFFLINE)
        with pytest.raises(openai.RateLimitError) as refused:
            await Runner.run(responses, QUESTION, run_config=OFFLINE)
        with pytest.raises(openai.AuthenticationError) as unauthenticated:
            await stranger.chat.completions.create(
                model="weather", messages=[{"role": "user", "content": QUESTION}]
            )
    assert "agent:weather" in [model.id for model in models.data]
    assert PARIS in streamed.final_output and PARIS in plain.final_output
    assert refused.value.code == "insufficient_quota"
    assert int(refused.value.response.headers["retry-after"]) > 0
    assert unauthenticated.value.code == "invalid_api_key"
    assert mock_llm.stats()["total_requests"] == 4  # two runs, each a tool call and an answer
