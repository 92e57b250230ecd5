"""The official openai client parses every answer of the mock, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from agenthost.testing.mock_llm import MockLLMServer

WEATHER_TOOL_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


class Forecast(BaseModel):
    city: str
    temperature: int
    sunny: bool


async def test_models_are_listed(client: openai.AsyncOpenAI) -> None:
    models = await client.models.list()
    assert [model.id for model in models.data] == ["mock-gpt"]


async def test_chat_completion_plain(client: openai.AsyncOpenAI, mock_llm: MockLLMServer) -> None:
    completion = await client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"}],
    )
    choice = completion.choices[0]
    assert choice.message.content == "Mock reply: hello"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens >= 1
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    stats = mock_llm.stats()
    assert stats["per_endpoint"] == {"POST /v1/chat/completions": 1}
    assert stats["per_status"] == {"200": 1}


async def test_chat_completion_streamed_with_usage(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "stream these words please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    deltas: list[str] = []
    usage = None
    finish = None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                deltas.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert len(deltas) > 3
    assert "".join(deltas) == "Mock reply: stream these words please"
    assert finish == "stop"
    assert usage is not None
    assert usage.completion_tokens > 0


async def test_chat_completion_tool_call(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the weather for a city",
                    "parameters": WEATHER_TOOL_PARAMS,
                },
            }
        ],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


async def test_chat_completion_streamed_tool_call(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "weather in Oslo"}],
        tools=[
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": WEATHER_TOOL_PARAMS},
            }
        ],
        stream=True,
    )
    names: list[str] = []
    arguments = ""
    async for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                if call.function and call.function.name:
                    names.append(call.function.name)
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Oslo"}


async def test_chat_structured_output_parses(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.parse(
        model="mock-gpt",
        messages=[{"role": "user", "content": "forecast for Rome"}],
        response_format=Forecast,
    )
    parsed = completion.choices[0].message.parsed
    assert parsed == Forecast(city="forecast for Rome", temperature=0, sunny=False)


async def test_responses_plain(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="mock-gpt", instructions="be brief", input="hello world"
    )
    assert response.output_text == "Mock reply: hello world"
    assert response.status == "completed"
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


async def test_responses_streamed_typed_events(client: openai.AsyncOpenAI) -> None:
    stream = await client.responses.create(model="mock-gpt", input="one two three", stream=True)
    types: list[str] = []
    deltas: list[str] = []
    completed = None
    async for event in stream:
        types.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.completed":
            completed = event.response
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert "response.output_item.added" in types
    assert len(deltas) > 3
    assert "".join(deltas) == "Mock reply: one two three"
    assert completed is not None
    assert completed.usage is not None
    assert completed.usage.output_tokens > 0
    assert completed.output_text == "Mock reply: one two three"


async def test_responses_tool_call_and_result_roundtrip(client: openai.AsyncOpenAI) -> None:
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Get the weather for a city",
        "parameters": WEATHER_TOOL_PARAMS,
        "strict": True,
    }
    first = await client.responses.create(
        model="mock-gpt",
        input="weather in Lima",
        tools=[tool],  # type: ignore[list-item]
    )
    call = first.output[0]
    assert call.type == "function_call"
    assert json.loads(call.arguments) == {"city": "Lima"}
    second = await client.responses.create(
        model="mock-gpt",
        input=[
            {"role": "user", "content": "weather in Lima"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "Foggy"},
        ],
        tools=[tool],  # type: ignore[list-item]
    )
    assert second.output_text == "Result: Foggy"


async def test_responses_structured_output_parses(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.parse(
        model="mock-gpt", input="forecast for Kyiv", text_format=Forecast
    )
    assert response.output_parsed == Forecast(city="forecast for Kyiv", temperature=0, sunny=False)


async def test_bad_request_uses_openai_error_shape(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="mock-gpt", messages=[])
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "invalid_request_error"
