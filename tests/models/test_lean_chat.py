"""The lean Chat Completions model against the mock LLM: answers, streams, errors, keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from agents import Agent, AgentOutputSchema, ModelSettings, RunConfig, Runner, function_tool
from agents.models.interface import ModelTracing
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage
from pydantic import BaseModel
from tests.models.pools import pool
from tests.waiting import eventually

from agenthost.classify import classify
from agenthost.errors import UpstreamUnavailable
from agenthost.models.lean_chat import LeanChatCompletionsModel
from agenthost.models.lean_client import LeanChatClient
from agenthost.testing.mock_llm import MockLLMServer
from agenthost.testing.mock_llm.stats import key_fingerprint

KeySource = Callable[[], Awaitable[str]]


async def static_key() -> str:
    return "test-key"


@pytest.fixture
def mock(mock_llm_server: MockLLMServer) -> MockLLMServer:
    mock_llm_server.reset()
    return mock_llm_server


@asynccontextmanager
async def lean_model(
    base_url: str, key: KeySource = static_key, **limits: Any
) -> AsyncIterator[LeanChatCompletionsModel]:
    client = LeanChatClient(pool(**limits), key, base_url)
    try:
        yield LeanChatCompletionsModel("mock-gpt", client)
    finally:
        await client.close()


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


class Forecast(BaseModel):
    city: str
    degrees: int


async def ask(model: LeanChatCompletionsModel, text: str, **kwargs: Any) -> Any:
    return await model.get_response(
        system_instructions=kwargs.get("instructions"),
        input=text,
        model_settings=kwargs.get("settings", ModelSettings()),
        tools=kwargs.get("tools", []),
        output_schema=kwargs.get("output_schema"),
        handoffs=[],
        tracing=ModelTracing.DISABLED,
    )


async def stream(model: LeanChatCompletionsModel, text: str, **kwargs: Any) -> list[Any]:
    return [
        event
        async for event in model.stream_response(
            system_instructions=None,
            input=text,
            model_settings=kwargs.get("settings", ModelSettings()),
            tools=kwargs.get("tools", []),
            output_schema=None,
            handoffs=[],
            tracing=ModelTracing.DISABLED,
        )
    ]


def text_of(response: Any) -> str:
    (message,) = response.output
    assert isinstance(message, ResponseOutputMessage)
    return "".join(part.text for part in message.content)


async def test_text_answer_and_its_usage(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        response = await ask(model, "hello there", instructions="Be brief.")
    assert text_of(response) == "Mock reply: hello there"
    assert response.usage.requests == 1
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + (
        response.usage.output_tokens
    )
    assert mock.stats()["per_endpoint"] == {"POST /v1/chat/completions": 1}


async def test_tool_call(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        response = await ask(model, "What's the weather in Paris?", tools=[get_weather])
    (call,) = response.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}


async def test_structured_output_is_json_of_the_schema(mock: MockLLMServer) -> None:
    schema = AgentOutputSchema(Forecast)
    async with lean_model(mock.base_url) as model:
        response = await ask(model, "forecast for Oslo", output_schema=schema)
    forecast = schema.validate_json(text_of(response))
    assert isinstance(forecast, Forecast)


async def test_stream_yields_text_deltas_and_final_usage(mock: MockLLMServer) -> None:
    settings = ModelSettings(include_usage=True)
    async with lean_model(mock.base_url) as model:
        events = await stream(model, "tell me a story", settings=settings)
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == "Mock reply: tell me a story"
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.usage.input_tokens > 0
    assert final.response.usage.output_tokens > 0


async def test_stream_of_a_tool_call(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        events = await stream(model, "weather in Lisbon", tools=[get_weather])
    (call,) = events[-1].response.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert json.loads(call.arguments) == {"city": "Lisbon"}


async def test_the_key_is_asked_for_on_every_request(mock: MockLLMServer) -> None:
    keys = iter(["first-key", "rotated-key"])

    async def rotating() -> str:
        return next(keys)

    async with lean_model(mock.base_url, key=rotating) as model:
        await ask(model, "one")
        await ask(model, "two")
    assert mock.stats()["per_key"] == {
        key_fingerprint("first-key"): 1,
        key_fingerprint("rotated-key"): 1,
    }


@pytest.mark.parametrize(
    ("fault", "error_type", "status"),
    [
        ("429 retry_after=2", openai.RateLimitError, 429),
        ("500", openai.InternalServerError, 500),
        ("503", openai.InternalServerError, 503),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
async def test_error_statuses_raise_the_openai_errors(
    mock: MockLLMServer, fault: str, error_type: type[Exception], status: int, streamed: bool
) -> None:
    async with lean_model(mock.base_url) as model:
        call = stream if streamed else ask
        with pytest.raises(error_type) as raised:
            await call(model, f"hi [[fault:{fault}]]")
    error = classify(raised.value)
    assert isinstance(error, UpstreamUnavailable)
    assert error.details == {"upstream_status": status}
    assert error.retry_after == (2.0 if status == 429 else None)


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_dropped_connection_is_a_connection_error(
    mock: MockLLMServer, streamed: bool
) -> None:
    async with lean_model(mock.base_url) as model:
        with pytest.raises(openai.APIConnectionError) as raised:
            await (stream if streamed else ask)(model, "hi [[fault:drop]]")
    assert not isinstance(raised.value, openai.APITimeoutError)
    assert classify(raised.value).message == "cannot reach the model service"


async def test_a_hung_endpoint_times_out(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url, read_timeout_s=0.3) as model:
        with pytest.raises(openai.APITimeoutError) as raised:
            await ask(model, "hi [[fault:hang]]")
    assert classify(raised.value).message == "model call timed out"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_malformed_body_is_invalid_json(mock: MockLLMServer, streamed: bool) -> None:
    async with lean_model(mock.base_url) as model:
        with pytest.raises(json.JSONDecodeError) as raised:
            await (stream if streamed else ask)(model, "hi [[fault:malformed]]")
    error = classify(raised.value)
    assert isinstance(error, UpstreamUnavailable)
    assert error.message == "model service sent invalid JSON"


async def test_the_connection_is_reused_after_a_stream(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        for _ in range(3):
            await stream(model, "again")
            await ask(model, "and again")
        connector = model.lean_client.pool.session.connector
        assert connector is not None
        idle = connector._conns  # type: ignore[attr-defined]
        assert sum(len(connections) for connections in idle.values()) == 1


async def test_a_run_hands_off_calls_a_tool_and_answers(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        weather = Agent(name="weather", tools=[get_weather], model=model)
        front = Agent(name="front", handoffs=[weather], model=model)
        result = await Runner.run(
            front,
            "[[tool:transfer_to_weather]] weather in Oslo",
            run_config=RunConfig(tracing_disabled=True),
        )
    assert result.last_agent is weather
    assert result.final_output == "Result: Sunny in Oslo"
    assert result.context_wrapper.usage.requests == 3


async def test_a_streamed_run_with_structured_output(mock: MockLLMServer) -> None:
    async with lean_model(mock.base_url) as model:
        agent = Agent(name="forecaster", output_type=Forecast, model=model)
        result = Runner.run_streamed(
            agent, "forecast for Rome", run_config=RunConfig(tracing_disabled=True)
        )
        kinds = {event.type async for event in result.stream_events()}
    assert "raw_response_event" in kinds
    assert isinstance(result.final_output, Forecast)


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_cancelled_call_closes_its_connection(mock: MockLLMServer, streamed: bool) -> None:
    async with lean_model(mock.base_url) as model:
        call = asyncio.create_task((stream if streamed else ask)(model, "[[sleep:5000]] hi"))
        await eventually(lambda: mock.stats()["in_flight"] == 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The mock sees the client go at once, long before it would answer.
        await eventually(lambda: mock.stats()["disconnects"] == 1, timeout_s=2.0)
        connector = model.lean_client.pool.session.connector
        assert connector is not None
        assert not connector._acquired  # type: ignore[attr-defined]
        assert not any(connector._conns.values())  # type: ignore[attr-defined]
