"""End to end: Agents SDK models (Chat Completions and Responses) against the mock over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest
from agents import (
    Agent,
    FunctionTool,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
)
from pydantic import BaseModel

from agenthost.testing.mock_llm import MockLLMServer

RUN_CONFIG = RunConfig(tracing_disabled=True)

ModelFactory = Callable[[openai.AsyncOpenAI], Model]
MODELS: dict[str, ModelFactory] = {
    "chat": lambda client: OpenAIChatCompletionsModel(model="mock-gpt", openai_client=client),
    "responses": lambda client: OpenAIResponsesModel(model="mock-gpt", openai_client=client),
}


def weather_tool(calls: list[str]) -> FunctionTool:
    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        calls.append(city)
        return f"Sunny in {city}"

    return get_weather


class Forecast(BaseModel):
    city: str
    degrees: int


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_runner_calls_the_tool_and_answers_with_its_output(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer, api: str
) -> None:
    calls: list[str] = []
    agent = Agent(
        name="weather",
        instructions="Answer weather questions.",
        tools=[weather_tool(calls)],
        model=MODELS[api](client),
    )
    result = await Runner.run(agent, "What's the weather in Paris?", run_config=RUN_CONFIG)
    assert calls == ["Paris"]
    assert result.final_output == "Result: Sunny in Paris"
    usage = result.context_wrapper.usage
    assert usage.requests == 2
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    endpoint = "POST /v1/chat/completions" if api == "chat" else "POST /v1/responses"
    assert mock_llm.stats()["per_endpoint"] == {endpoint: 2}


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_streamed_run_yields_text_deltas(client: openai.AsyncOpenAI, api: str) -> None:
    calls: list[str] = []
    agent = Agent(name="weather", tools=[weather_tool(calls)], model=MODELS[api](client))
    result = Runner.run_streamed(
        agent, "How is the weather in Lisbon today?", run_config=RUN_CONFIG
    )
    deltas: list[str] = []
    async for event in result.stream_events():
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas.append(event.data.delta)
    assert calls == ["Lisbon"]
    assert len(deltas) > 3
    assert "".join(deltas) == "Result: Sunny in Lisbon"
    assert result.final_output == "Result: Sunny in Lisbon"


@pytest.mark.parametrize("api", sorted(MODELS))
async def test_structured_output_type(client: openai.AsyncOpenAI, api: str) -> None:
    agent = Agent(name="forecaster", output_type=Forecast, model=MODELS[api](client))
    result = await Runner.run(agent, "forecast for Rome", run_config=RUN_CONFIG)
    assert result.final_output == Forecast(city="forecast for Rome", degrees=0)


async def test_upstream_fault_reaches_the_runner(
    client: openai.AsyncOpenAI, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("503")
    agent = Agent(name="plain", model=MODELS["responses"](client))
    with pytest.raises(openai.InternalServerError):
        await Runner.run(agent, "hello", run_config=RUN_CONFIG)
    result = await Runner.run(agent, "hello", run_config=RUN_CONFIG)
    assert result.final_output == "Mock reply: hello"
