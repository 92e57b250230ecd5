"""``POST /v1/chat/completions`` with the official ``openai`` client, over real HTTP."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.openai_host import Host, hosting
from tests.api.tenants import run_rows

PARIS = "The weather in Paris today: light rain, 14 °C."


@pytest.fixture
def host(agenthost_client: Any) -> Host:
    return hosting(agenthost_client)


async def test_a_completion_runs_the_agent_on_the_conversation(host: Host) -> None:
    messages: Any = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": [{"type": "text", "text": "Hi! Which city?"}]},
        {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]},
    ]
    async with host() as hosted:
        completion = await hosted.client.chat.completions.create(
            model="agent:weather", messages=messages, temperature=0.3, max_tokens=100
        )
        (record,) = await run_rows(hosted.app, "acme")
    (choice,) = completion.choices
    assert completion.object == "chat.completion" and completion.id == record.id
    assert choice.message.role == "assistant" and PARIS in (choice.message.content or "")
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == record.total_tokens > 0
    assert completion.usage.prompt_tokens == record.input_tokens
    assert record.session_id is None and record.status == "succeeded"  # stateless


async def test_a_streamed_completion_sends_chunks_then_usage_then_done(host: Host) -> None:
    async with host() as hosted:
        stream = await hosted.client.chat.completions.create(
            model="weather",
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        raw = await hosted.http.post(
            "/v1/chat/completions",
            json={
                "model": "weather",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
            },
            headers=hosted.key.headers,
        )
        records = await run_rows(hosted.app, "acme")
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk.id for chunk in chunks} == {records[0].id}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert PARIS in text
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == records[0].total_tokens
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.text.endswith("data: [DONE]\n\n") and '"usage"' not in raw.text
    assert [r.mode for r in records] == ["stream", "stream"]


async def test_a_structured_output_is_answered_as_json_text(host: Host) -> None:
    async with host() as hosted:
        completion = await hosted.client.chat.completions.create(
            model="agent:ticket",
            messages=[{"role": "user", "content": "The printer is on fire"}],
        )
    assert completion.choices[0].message.content is not None
    assert completion.choices[0].message.content.startswith("{")


REFUSED: list[tuple[dict[str, Any], str, str]] = [
    (
        {"messages": [{"role": "system", "content": "Be a pirate"}]},
        "messages[0].role",
        "unsupported_value",
    ),
    (
        {"messages": [{"role": "tool", "content": "x", "tool_call_id": "c"}]},
        "messages[0].role",
        "invalid_value",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        "tools",
        "unsupported_parameter",
    ),
    ({"n": 2}, "n", "invalid_value"),
    ({"response_format": {"type": "json_object"}}, "response_format.type", "invalid_value"),
    ({"logprobs": True}, "logprobs", "unknown_parameter"),
]
"""(what the request adds, the ``param`` and the ``code`` of its 400)."""


async def test_what_the_agent_owns_is_refused(host: Host) -> None:
    user = [{"role": "user", "content": "hi"}]
    async with host() as hosted:
        refusals = []
        for extra, _, _ in REFUSED:
            with pytest.raises(openai.BadRequestError) as caught:
                await hosted.client.chat.completions.create(
                    **{"model": "weather", "messages": user, **extra}
                )
            refusals.append(caught.value)
        records = await run_rows(hosted.app, "acme")
    for refused, (_, param, code) in zip(refusals, REFUSED, strict=True):
        assert refused.status_code == 400
        assert (refused.type, refused.param, refused.code) == ("invalid_request_error", param, code)
    assert records == []


async def test_an_unknown_model_is_openais_model_not_found(host: Host) -> None:
    async with host() as hosted:
        with pytest.raises(openai.NotFoundError) as caught:
            await hosted.client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.code == "model_not_found"
    assert caught.value.response.headers["content-type"] == "application/json"


async def test_a_run_failing_mid_stream_raises_in_the_client(
    host: Host, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("500")
    async with host(retry_max_attempts=1) as hosted:
        stream = await hosted.client.chat.completions.create(
            model="weather",
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            stream=True,
        )
        with pytest.raises(openai.APIError) as caught:
            [chunk async for chunk in stream]
        (record,) = await run_rows(hosted.app, "acme")
    assert record.status == "failed"
    assert caught.value.code == record.error_code.lower()  # type: ignore[union-attr]
    assert caught.value.type == "server_error"


async def test_a_guardrail_refusing_the_run_is_a_422(host: Host) -> None:
    card = [{"role": "user", "content": "My card is 4111 1111 1111 1111"}]
    async with host() as hosted:
        with pytest.raises(openai.UnprocessableEntityError) as caught:
            await hosted.client.chat.completions.create(model="agent:triage", messages=card)
        (record,) = await run_rows(hosted.app, "acme")
    assert (caught.value.type, caught.value.code) == ("invalid_request_error", "guardrail_tripped")
    assert caught.value.response.headers["x-run-id"] == record.id
    assert record.status == "failed" and record.error_code == "GUARDRAIL_TRIPPED"
