"""The Agents SDK with agenthost as its model provider: an SDK agent whose model is a hosted
agenthost agent (``agent:weather``), over the Responses and the Chat Completions APIs."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
)
from openai import AsyncOpenAI

from tests.api.openai_host import Host, hosting
from tests.api.tenants import run_rows

PARIS = "The weather in Paris today: light rain, 14 °C."
QUESTION = "What is the weather in Paris?"
OFFLINE = RunConfig(tracing_disabled=True)  # the outer SDK must not export traces anywhere
MODELS = {
    "responses": lambda client: OpenAIResponsesModel("agent:weather", client),
    "chat": lambda client: OpenAIChatCompletionsModel("agent:weather", client),
}


@pytest.fixture
def host(agenthost_client: Any) -> Host:
    return hosting(agenthost_client)


def outer_agent(api: str, client: AsyncOpenAI) -> Agent[Any]:
    """An SDK agent with no instructions or tools of its own: the hosted agent has them."""
    model: Model = MODELS[api](client)
    return Agent(name="front", model=model)


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_an_sdk_agent_runs_on_a_hosted_agent(host: Host, api: str) -> None:
    async with host() as hosted:
        agent = outer_agent(api, hosted.client)
        plain = await Runner.run(agent, QUESTION, run_config=OFFLINE)
        streamed = Runner.run_streamed(agent, QUESTION, run_config=OFFLINE)
        deltas = [
            event.data.delta
            async for event in streamed.stream_events()
            if event.type == "raw_response_event"
            and event.data.type == "response.output_text.delta"
        ]
        records = await run_rows(hosted.app, "acme")
    # The hosted agent called its tool; the outer agent sees only the final text.
    assert PARIS in plain.final_output and PARIS in streamed.final_output
    assert PARIS in "".join(deltas)
    assert [(r.agent, r.status, r.mode) for r in records] == [
        ("weather", "succeeded", "sync"),
        ("weather", "succeeded", "stream"),
    ]
    assert plain.context_wrapper.usage.total_tokens == records[0].total_tokens > 0


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_the_sdk_sends_a_whole_conversation_back(host: Host, api: str) -> None:
    async with host() as hosted:
        agent = outer_agent(api, hosted.client)
        first = await Runner.run(agent, QUESTION, run_config=OFFLINE)
        turns = [
            *first.to_input_list(),
            {"role": "user", "content": "What is the weather in Tokyo?"},
        ]
        second = await Runner.run(agent, turns, run_config=OFFLINE)
    assert first.to_input_list()[-1]["role"] == "assistant"
    assert "clear, 19 °C" in second.final_output


async def test_the_sdk_continues_a_hosted_conversation_by_response_id(host: Host) -> None:
    async with host() as hosted:
        agent = outer_agent("responses", hosted.client)
        first = await Runner.run(agent, "My name is Ada", run_config=OFFLINE)
        second = await Runner.run(
            agent,
            "What is the weather in London?",
            previous_response_id=first.last_response_id,
            run_config=OFFLINE,
        )
        records = await run_rows(hosted.app, "acme")
    assert first.last_response_id == records[0].id
    assert "overcast" in second.final_output
    assert records[1].session_id == records[0].session_id == records[0].id


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_quota_and_bad_keys_surface_as_openai_errors(host: Host, api: str) -> None:
    async with host({"runs_per_month": 1}) as hosted:
        agent = outer_agent(api, hosted.client)
        await Runner.run(agent, QUESTION, run_config=OFFLINE)
        with pytest.raises(openai.RateLimitError):
            await Runner.run(agent, QUESTION, run_config=OFFLINE)
        with pytest.raises(openai.RateLimitError):
            streamed = Runner.run_streamed(agent, QUESTION, run_config=OFFLINE)
            async for _ in streamed.stream_events():
                pass
        async with hosted.openai("ahk_wrong") as stranger:
            with pytest.raises(openai.AuthenticationError):
                await Runner.run(outer_agent(api, stranger), QUESTION, run_config=OFFLINE)
