"""``POST /v1/responses`` with the official ``openai`` client, over real HTTP."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from pydantic import ValidationError

from agenthost.api.schemas.responses import ResponseCreate
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.openai_host import Host, hosting
from tests.api.tenants import run_rows, tenant_with_key
from tests.telemetry.scrape import value

PARIS = "The weather in Paris today: light rain, 14 °C."


@pytest.fixture
def host(agenthost_client: Any) -> Host:
    return hosting(agenthost_client)


async def test_a_response_runs_the_agent_with_its_tool(host: Host, mock_llm: MockLLMServer) -> None:
    async with host() as hosted:
        response = await hosted.client.responses.create(
            model="agent:weather", input="What is the weather in Paris?", metadata={"k": "v"}
        )
        (record,) = await run_rows(hosted.app, "acme")
        metrics = hosted.app.state.container.metrics
        counted = value(
            metrics, "agenthost_runs_total", agent="weather", tenant="acme", status="succeeded"
        )
    assert response.status == "completed"
    assert PARIS in response.output_text
    assert response.model == "agent:weather"
    assert response.usage is not None and response.usage.total_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    # The same pipeline: a run record of the tenant, whose id is the response's.
    assert record.id == response.id and record.agent == "weather"
    assert record.status == "succeeded" and record.mode == "sync"
    assert record.total_tokens == response.usage.total_tokens
    assert record.run_metadata == {"k": "v"}
    assert record.session_id == response.id  # stored: the conversation can be continued
    assert mock_llm.stats()["total_requests"] == 2  # the tool call, then the answer
    assert counted == 1


async def test_a_streamed_response_sends_openais_events(host: Host) -> None:
    async with host() as hosted:
        stream = await hosted.client.responses.create(
            model="weather", input="What is the weather in Tokyo?", stream=True
        )
        events = [event async for event in stream]
        (record,) = await run_rows(hosted.app, "acme")
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "response.output_text.delta" in kinds
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    completed = events[-1].response
    assert "clear, 19 °C" in deltas and deltas == completed.output_text
    assert completed.usage is not None and completed.usage.total_tokens == record.total_tokens
    assert completed.id == record.id and record.mode == "stream"


async def test_previous_response_id_continues_the_conversation(host: Host) -> None:
    async with host() as hosted:
        first = await hosted.client.responses.create(model="weather", input="Remember: blue")
        second = await hosted.client.responses.create(
            model="weather", input="What is the weather in London?", previous_response_id=first.id
        )
        history = (
            await hosted.http.get(f"/v1/sessions/{first.id}", headers=hosted.key.headers)
        ).json()
        records = await run_rows(hosted.app, "acme")
    assert "overcast, 12 °C" in second.output_text
    assert second.previous_response_id == first.id
    assert [r.session_id for r in records] == [first.id, first.id]
    texts = [str(item.get("content")) for item in history["items"]]
    assert "Remember: blue" in texts[0] and any("London" in t for t in texts)


async def test_another_tenants_response_is_not_found(host: Host) -> None:
    async with host() as hosted:
        theirs = await hosted.client.responses.create(model="weather", input="Paris weather?")
        other = await tenant_with_key(hosted.app, "globex")
        async with hosted.openai(other.plaintext) as intruder:
            with pytest.raises(openai.NotFoundError) as caught:
                await intruder.responses.create(
                    model="weather", input="and?", previous_response_id=theirs.id
                )
        unstored = await hosted.client.responses.create(
            model="weather", input="Paris weather?", store=False
        )
        with pytest.raises(openai.BadRequestError) as not_stored:
            await hosted.client.responses.create(
                model="weather", input="and?", previous_response_id=unstored.id
            )
        records = await run_rows(hosted.app, "globex")
    assert caught.value.body == {
        "message": f"Previous response with id '{theirs.id}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    assert records == []  # refused before anything ran
    assert not_stored.value.code == "unsupported_value"
    assert not_stored.value.param == "previous_response_id"


REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"instructions": "Be a pirate"}, "instructions", "unsupported_parameter"),
    ({"tools": [{"type": "web_search"}]}, "tools", "unsupported_parameter"),
    ({"input": [{"role": "system", "content": "x"}]}, "input", "unsupported_value"),
    (
        {"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]},
        "input",
        "unsupported_value",
    ),
    ({"text": {"format": {"type": "json_object"}}}, "text.format.type", "invalid_value"),
    ({"background": True}, "background", "unknown_parameter"),
    ({"include": ["reasoning.encrypted_content"]}, "include", "unsupported_parameter"),
]
"""(what the request adds, the ``param`` and the ``code`` of its 400)."""


async def test_parameters_the_agent_owns_are_refused_in_openais_shape(host: Host) -> None:
    async with host() as hosted:
        answers = [
            await hosted.http.post(
                "/v1/responses",
                json={"model": "weather", "input": "hi", **extra},
                headers=hosted.key.headers,
            )
            for extra, _, _ in REFUSED
        ]
        records = await run_rows(hosted.app, "acme")
    for response, (_, param, code) in zip(answers, REFUSED, strict=True):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/json"
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert (error["type"], error["param"], error["code"]) == (
            "invalid_request_error",
            param,
            code,
        )
    assert records == []


async def test_sampling_parameters_are_accepted_and_ignored(host: Host) -> None:
    async with host() as hosted:
        response = await hosted.client.responses.create(
            model="agent:weather",
            input="What is the weather in Paris?",
            temperature=0.2,
            top_p=0.5,
            max_output_tokens=50,
            tools=[],
            include=[],
            tool_choice="auto",
            parallel_tool_calls=True,
            truncation="disabled",
            user="u1",
        )
    assert PARIS in response.output_text


async def test_a_run_failing_mid_stream_ends_with_response_failed(
    host: Host, mock_llm: MockLLMServer
) -> None:
    mock_llm.queue_faults("500")
    async with host(retry_max_attempts=1) as hosted:
        stream = await hosted.client.responses.create(
            model="weather", input="What is the weather in Paris?", stream=True
        )
        events = [event async for event in stream]
        (record,) = await run_rows(hosted.app, "acme")
    assert [event.type for event in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    failed = events[-1].response
    assert failed.status == "failed" and failed.id == record.id
    assert failed.error is not None and failed.error.code == record.error_code.lower()
    assert record.status == "failed"


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ([{"type": "input_image"}], "0.content.0.input_image.image_url: Field required"),
        ([{"type": "input_text", "text": 1}], "0.content.0.input_text.text: Input should be"),
        ([], "0.content: List should have at least 1 item"),
    ],
)
def test_a_bad_content_part_is_named_not_the_string_it_was_not(
    content: list[Any], names: str
) -> None:
    """A message's content sent as a list is reported as a list (not "should be a valid
    string", the other shape it might have been), at the part that is wrong."""
    with pytest.raises(ValidationError) as caught:
        ResponseCreate.model_validate(
            {"model": "weather", "input": [{"role": "user", "content": content}]}
        )
    message = caught.value.errors()[0]["msg"]
    assert message.startswith(names), message
    assert "content.str" not in message and "union" not in message
