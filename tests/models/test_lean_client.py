"""The lean client on the wire: the openai client's request body, its errors, odd answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from agents import Agent, AgentOutputSchema, ModelSettings, function_tool, handoff
from agents.models.interface import Model, ModelTracing
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from aiohttp import web
from aiohttp.test_utils import TestServer as LoopbackServer
from openai.types.responses import ResponseFunctionToolCall
from pydantic import BaseModel
from tests.models.pools import pool

from agenthost.classify import classify
from agenthost.errors import UpstreamError, UpstreamUnavailable
from agenthost.models.lean_chat import LeanChatCompletionsModel
from agenthost.models.lean_client import LeanChatClient

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def key() -> str:
    return "sk-test"


def completion(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "total_tokens": 14,
            "prompt_tokens_details": {"cached_tokens": 6},
            "completion_tokens_details": {"reasoning_tokens": 3},
        },
    }


TEXT = completion({"role": "assistant", "content": "hi"})


def sse(*events: Any) -> bytes:
    lines = [f"data: {json.dumps(e) if not isinstance(e, str) else e}\n\n" for e in events]
    return "".join(lines).encode()


@asynccontextmanager
async def endpoint(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server answering ``POST /v1/chat/completions``; its base URL."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    server = LoopbackServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/v1"))
    finally:
        await server.close()


@asynccontextmanager
async def clients(base_url: str) -> AsyncIterator[dict[str, Model]]:
    """The lean model and the SDK's openai-client model, both sending to ``base_url``."""
    lean = LeanChatClient(pool(), key, base_url)
    sdk = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0)
    try:
        yield {
            "lean": LeanChatCompletionsModel("m", lean),
            "openai": OpenAIChatCompletionsModel("m", sdk),
        }
    finally:
        await lean.close()
        await sdk.close()


@asynccontextmanager
async def models(handler: Handler) -> AsyncIterator[dict[str, Model]]:
    """The lean model and the SDK's openai-client model over the same fake endpoint."""
    async with endpoint(handler) as base_url, clients(base_url) as both:
        yield both


def answering(status: int, body: Any, headers: dict[str, str] | None = None) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return web.Response(status=status, body=content, headers=headers or {})

    return handle


async def ask(model: Model, **kwargs: Any) -> Any:
    return await model.get_response(
        system_instructions=kwargs.get("instructions"),
        input=kwargs.get("input", "hello"),
        model_settings=kwargs.get("settings", ModelSettings()),
        tools=kwargs.get("tools", []),
        output_schema=kwargs.get("output_schema"),
        handoffs=kwargs.get("handoffs", []),
        tracing=ModelTracing.DISABLED,
    )


async def drain(model: Model, **kwargs: Any) -> list[Any]:
    events = model.stream_response(
        system_instructions=None,
        input="hello",
        model_settings=kwargs.get("settings", ModelSettings()),
        tools=kwargs.get("tools", []),
        output_schema=None,
        handoffs=[],
        tracing=ModelTracing.DISABLED,
    )
    return [event async for event in events]


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return city


class Forecast(BaseModel):
    city: str


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_request_is_the_one_the_openai_client_sends(streamed: bool) -> None:
    seen: dict[str, tuple[bytes, str, Any]] = {}

    async def handle(request: web.Request) -> web.Response:
        seen[request.headers["x-client"]] = (await request.read(), request.path_qs, request)
        if streamed:
            return web.Response(body=sse("[DONE]"), content_type="text/event-stream")
        return web.json_response(TEXT)

    settings = ModelSettings(
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        parallel_tool_calls=True,
        tool_choice="required",
        metadata={"team": "a"},
        include_usage=True,
        extra_body={"custom": {"x": 1}},
        extra_args={"seed": 7, "user": "u1"},
        extra_query={"api-version": "2025"},
    )
    specialist = Agent(name="specialist")
    async with models(handle) as both:
        for name, model in both.items():
            named = settings.resolve(ModelSettings(extra_headers={"x-client": name}))
            kwargs = {"settings": named, "tools": [get_weather]}
            if streamed:
                await drain(model, **kwargs)
            else:
                await ask(
                    model,
                    instructions="Be brief.",
                    output_schema=AgentOutputSchema(Forecast),
                    handoffs=[handoff(specialist)],
                    **kwargs,
                )
    (lean_body, lean_url, lean), (sdk_body, sdk_url, sdk) = seen["lean"], seen["openai"]
    assert json.loads(lean_body) == json.loads(sdk_body)
    assert lean_url == sdk_url
    assert lean.query["api-version"] == "2025"
    for header in ("authorization", "user-agent", "content-type", "accept"):
        assert lean.headers[header] == sdk.headers[header]


async def test_unknown_arguments_are_refused_like_the_openai_client_does() -> None:
    settings = ModelSettings(extra_args={"no_such_field": 1})
    async with models(answering(200, TEXT)) as both:
        for model in both.values():
            with pytest.raises(TypeError, match="no_such_field"):
                await ask(model, settings=settings)


async def test_usage_includes_cached_and_reasoning_tokens() -> None:
    async with models(answering(200, TEXT, {"x-request-id": "req_1"})) as both:
        lean, sdk = [await ask(model) for model in both.values()]
    assert lean.usage == sdk.usage
    assert lean.usage.input_tokens_details.cached_tokens == 6
    assert lean.usage.output_tokens_details.reasoning_tokens == 3
    assert lean.request_id == sdk.request_id == "req_1"


async def test_parallel_tool_calls() -> None:
    calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": "get_weather", "arguments": a}}
        for i, a in enumerate(['{"city": "Oslo"}', '{"city": "Rome"}'])
    ]
    body = completion({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls")
    async with models(answering(200, body)) as both:
        lean, sdk = [await ask(model, tools=[get_weather]) for model in both.values()]
    assert lean.output == sdk.output
    assert [c.call_id for c in lean.output if isinstance(c, ResponseFunctionToolCall)] == [
        "call_0",
        "call_1",
    ]


async def test_streamed_parallel_tool_calls() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [choice]}  # fmt: skip

    def head(index: int) -> dict[str, Any]:
        function = {"name": "get_weather", "arguments": ""}
        return {"index": index, "id": f"call_{index}", "type": "function", "function": function}

    def args(index: int, text: str) -> dict[str, Any]:
        return {"index": index, "function": {"arguments": text}}

    body = sse(
        chunk({"role": "assistant", "tool_calls": [head(0), head(1)]}),
        chunk({"tool_calls": [args(0, '{"city": "Oslo"}'), args(1, '{"city": "Rome"}')]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    async with models(answering(200, body)) as both:
        lean, sdk = [await drain(model, tools=[get_weather]) for model in both.values()]
    assert [e.type for e in lean] == [e.type for e in sdk]
    outputs = [events[-1].response.output for events in (lean, sdk)]
    assert outputs[0] == outputs[1]
    assert [json.loads(call.arguments)["city"] for call in outputs[0]] == ["Oslo", "Rome"]


async def test_a_refusal_is_kept() -> None:
    body = completion({"role": "assistant", "content": None, "refusal": "No."})
    async with models(answering(200, body)) as both:
        lean, sdk = [await ask(model) for model in both.values()]
    assert lean.output == sdk.output
    assert lean.output[0].content[0].refusal == "No."


@pytest.mark.parametrize(
    ("status", "error_type", "retriable"),
    [
        (400, openai.BadRequestError, False),
        (401, openai.AuthenticationError, False),
        (403, openai.PermissionDeniedError, False),
        (404, openai.NotFoundError, False),
        (408, openai.APIStatusError, True),
        (409, openai.ConflictError, True),
        (422, openai.UnprocessableEntityError, False),
        (429, openai.RateLimitError, True),
        (500, openai.InternalServerError, True),
        (502, openai.InternalServerError, True),
    ],
)
async def test_statuses_raise_what_the_openai_client_raises(
    status: int, error_type: type[openai.APIStatusError], retriable: bool
) -> None:
    body = {"error": {"message": "nope", "type": "x"}}
    async with models(answering(status, body, {"retry-after-ms": "1500"})) as both:
        errors = []
        for model in both.values():
            with pytest.raises(openai.APIStatusError) as raised:
                await ask(model)
            errors.append(raised.value)
    lean, sdk = errors
    assert type(lean) is type(sdk) is error_type
    assert (lean.message, lean.body, lean.status_code) == (sdk.message, sdk.body, sdk.status_code)
    classified = classify(lean)
    assert isinstance(classified, UpstreamUnavailable if retriable else UpstreamError)
    assert classified.details == {"upstream_status": status}
    if retriable:
        assert classified.retry_after == 1.5


async def test_an_error_event_in_a_stream_raises_like_the_openai_client() -> None:
    body = sse({"error": {"message": "overloaded mid-stream"}})
    async with models(answering(200, body)) as both:
        errors = []
        for model in both.values():
            with pytest.raises(openai.APIError) as raised:
                await drain(model)
            errors.append(raised.value)
    assert errors[0].message == errors[1].message == "overloaded mid-stream"


async def test_a_body_that_is_not_an_object_is_an_invalid_response() -> None:
    async with models(answering(200, [1, 2])) as both:
        with pytest.raises(openai.APIResponseValidationError) as raised:
            await ask(both["lean"])
    assert classify(raised.value).message == "model service sent an invalid response"


async def test_a_connection_refused_is_a_connection_error() -> None:
    async with endpoint(answering(200, TEXT)) as base_url:
        pass  # the port is closed now: connecting is refused
    async with clients(base_url) as both:
        for model in both.values():
            with pytest.raises(openai.APIConnectionError) as raised:
                await ask(model)
            assert classify(raised.value).message == "cannot reach the model service"


async def test_requests_go_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hosts: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        hosts.append(request.host)
        return web.json_response(TEXT)

    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with endpoint(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/v1"))
        async with clients("http://models.internal/v1") as both:
            for model in both.values():
                await ask(model)
    assert hosts == ["models.internal", "models.internal"]
