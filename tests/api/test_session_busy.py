"""A second run of a session with one in flight, over real HTTP (the mock LLM in its own
process): ``on_busy`` reject (409 SESSION_BUSY), enqueue (in arrival order, each run seeing the
turns before it) and interrupt (the running one cancelled, its partial turn not kept)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agents import Agent

from agenthost.testing.mock_llm.markers import strip_markers
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key
from tests.api.test_sessions import conversation
from tests.waiting import eventually


@pytest.fixture
def registry() -> Any:
    registry = build_registry(ToolLog())  # its echo agent has a deadline of 2 s
    registry.register(Agent(name="chat", instructions="Repeat the user."), timeout_s=20)
    return registry


def _body(text: str, session_id: str = "conv", **extra: Any) -> dict[str, Any]:
    return {"input": text, "session_id": session_id, **extra}


async def _post(client: Any, body: dict[str, Any], agent: str = "chat") -> Any:
    return await client.post(f"/v1/agents/{agent}/runs", json=body)


async def _history(client: Any, session_id: str = "conv") -> list[str]:
    response = await client.get(f"/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    return [strip_markers(text) for _, text in conversation(response.json())]


def _items_seen(mock: MockLLMServer) -> dict[str, int]:
    """How many conversation items the model was sent with each user text."""
    seen = {}
    for call in mock.stats()["completed_calls"]:
        text, _, items = call.rpartition("#")
        seen[strip_markers(text)] = int(items)
    return seen


async def test_reject_refuses_a_second_run_until_the_first_ends(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry) as (client, app):
        first = asyncio.create_task(_post(client, _body("first [[sleep:600]]")))
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        refused = await _post(client, _body("second"))
        other_session = await _post(client, _body("elsewhere", "conv-other"))
        done = await first
        after = await _post(client, _body("third"))
        usage = (await client.get("/v1/usage")).json()
        history = await _history(client)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "SESSION_BUSY" and problem["retriable"] is True
    assert int(refused.headers["Retry-After"]) >= 1
    assert "run_id" not in problem  # refused before a run was recorded
    assert other_session.status_code == done.status_code == after.status_code == 200
    assert usage["totals"]["runs"] == 3  # the refused run holds nothing, counts nothing
    assert history == ["first", "Mock reply: first", "third", "Mock reply: third"]
    assert app.state.lifecycle.in_flight == 0


async def test_enqueued_runs_run_one_at_a_time_in_arrival_order(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    texts = ["message 0 [[sleep:800]]"] + [f"message {i} [[sleep:50]]" for i in range(1, 4)]
    async with agenthost_client(registry) as (client, app):
        runs = []
        for index, text in enumerate(texts):
            runs.append(asyncio.create_task(_post(client, _body(text, on_busy="enqueue"))))
            # Admitted (its place in line taken) before the next one is sent.
            await eventually(lambda n=index + 1: app.state.lifecycle.in_flight == n)
        assert mock_llm.stats()["in_flight"] == 1  # the others wait for the session
        responses = await asyncio.gather(*runs)
        history = await _history(client)
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    expected = []
    for index in range(4):
        expected += [f"message {index}", f"Mock reply: message {index}"]
    assert history == expected
    # Each run was sent the whole exchange of every run before it, and its own message.
    seen = _items_seen(mock_llm)
    base = seen["message 0"]
    assert [seen[f"message {i}"] for i in range(4)] == [base + 2 * i for i in range(4)]


async def test_an_enqueued_stream_waits_for_the_session_too(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry) as (client, _):
        first = asyncio.create_task(_post(client, _body("first [[sleep:300]]")))
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        streamed = await _post(client, _body("second", stream=True, on_busy="enqueue"))
        await first
        history = await _history(client)
    assert streamed.status_code == 200 and "event: final" in streamed.text
    assert history == ["first", "Mock reply: first", "second", "Mock reply: second"]


async def test_interrupt_cancels_the_running_run_and_keeps_none_of_its_turn(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry, session_poll_s=0.02) as (client, app):
        assert (await _post(client, _body("hello"))).status_code == 200
        slow = asyncio.create_task(_post(client, _body("slow one [[sleep:1800]]")))
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        waiting = asyncio.create_task(_post(client, _body("waiting", on_busy="enqueue")))
        await eventually(lambda: app.state.lifecycle.in_flight == 2)
        newer = await _post(client, _body("newer", on_busy="interrupt"))
        interrupted, dropped = await slow, await waiting
        record = (await client.get(f"/v1/runs/{interrupted.json()['run_id']}")).json()
        history = await _history(client)
    assert newer.status_code == 200, newer.text
    assert interrupted.status_code == 409, interrupted.text
    assert interrupted.json()["code"] == "RUN_CANCELLED"
    assert record["status"] == "cancelled" and record["error"]["code"] == "RUN_CANCELLED"
    assert dropped.status_code == 409 and dropped.json()["code"] == "RUN_CANCELLED"
    assert history == ["hello", "Mock reply: hello", "newer", "Mock reply: newer"]
    assert _items_seen(mock_llm)["newer"] == _items_seen(mock_llm)["hello"] + 2
    assert app.state.lifecycle.in_flight == 0


async def test_a_failed_run_leaves_the_session_as_it_was(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry) as (client, _):
        assert (await _post(client, _body("hello"))).status_code == 200
        failed = await _post(client, _body("too slow [[sleep:3000]]"), "echo")
        again = await _post(client, _body("again"), "echo")
        history = await _history(client)
    assert failed.status_code == 504 and failed.json()["code"] == "RUN_TIMEOUT"
    assert again.status_code == 200  # the lease went with the failed run
    assert history == ["hello", "Mock reply: hello", "again", "Mock reply: again"]


@pytest.mark.parametrize("on_busy", ["later", "", None, 3, "REJECT"])
async def test_an_unknown_on_busy_is_422(
    agenthost_client: Any, registry: Any, on_busy: object
) -> None:
    async with agenthost_client(registry) as (client, _):
        response = await _post(client, _body("hi", on_busy=on_busy))
        usage = (await client.get("/v1/usage")).json()
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["on_busy"]
    assert usage["totals"]["runs"] == 0


async def test_an_interrupted_stream_ends_with_a_cancelled_error_event(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry, session_poll_s=0.02) as (client, _):
        slow = asyncio.create_task(_post(client, _body("slow [[sleep:1800]]", stream=True)))
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        newer = await _post(client, _body("newer", on_busy="interrupt"))
        streamed = await slow
        history = await _history(client)
    assert newer.status_code == 200, newer.text
    assert "event: error" in streamed.text and "RUN_CANCELLED" in streamed.text
    assert "event: final" not in streamed.text
    assert history == ["newer", "Mock reply: newer"]


async def test_two_tenants_with_one_session_id_do_not_share_its_lease(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        acme, other = await tenant_with_key(app, "acme"), await tenant_with_key(app, "other")
        busy = asyncio.create_task(
            client.post(
                "/v1/agents/chat/runs",
                json=_body("acme's [[sleep:600]]"),
                headers=acme.headers,
            )
        )
        await eventually(lambda: mock_llm.stats()["in_flight"] == 1)
        others = await client.post(
            "/v1/agents/chat/runs", json=_body("other's"), headers=other.headers
        )
        assert (await busy).status_code == 200
    assert others.status_code == 200, others.text
