"""Conversation sessions over real HTTP: history reaches the model, nothing is lost, delete."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key
from tests.waiting import eventually


@pytest.fixture
def registry() -> Any:
    return build_registry(ToolLog())


async def run(client: Any, text: str, session_id: str | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"input": text, **extra}
    if session_id is not None:
        body["session_id"] = session_id
    response = await client.post("/v1/agents/echo/runs", json=body)
    assert response.status_code == 200, response.text
    return response


def conversation(session: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of each message item, oldest first."""
    pairs = []
    for item in session["items"]:
        content = item["content"]
        if isinstance(content, list):  # assistant messages carry output_text parts
            content = "".join(part["text"] for part in content)
        pairs.append((item["role"], content))
    return pairs


async def test_the_second_run_sees_the_first_exchange(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        first = (await run(client, "my name is Ada", "conv-1")).json()
        second = (await run(client, "what is my name", "conv-1")).json()
        alone = (await run(client, "what is my name")).json()
        session = await client.get("/v1/sessions/conv-1")
    assert session.status_code == 200, session.text
    body = session.json()
    assert body["session_id"] == "conv-1" and body["created_at"] <= body["updated_at"]
    assert conversation(body) == [
        ("user", "my name is Ada"),
        ("assistant", "Mock reply: my name is Ada"),
        ("user", "what is my name"),
        ("assistant", "Mock reply: what is my name"),
    ]
    # The model was sent the first exchange too: the same question costs the history's tokens
    # more than without it (the mock counts about four characters per token).
    history = "my name is Ada\nMock reply: my name is Ada\n"
    history_tokens = second["usage"]["input_tokens"] - alone["usage"]["input_tokens"]
    assert abs(history_tokens - len(history) / 4) <= 1
    assert first["usage"]["requests"] == second["usage"]["requests"] == 1


async def test_streamed_runs_use_the_session_too(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        await run(client, "first", "conv-s")
        streamed = await run(client, "second", "conv-s", stream=True)
        session = (await client.get("/v1/sessions/conv-s")).json()
    assert "event: final" in streamed.text
    assert [text for _, text in conversation(session)] == [
        "first",
        "Mock reply: first",
        "second",
        "Mock reply: second",
    ]


async def test_concurrent_enqueued_runs_on_a_new_session_lose_no_items(
    agenthost_client: Any, registry: Any, mock_llm: MockLLMServer
) -> None:
    texts = [f"message {i} [[sleep:100]]" for i in range(4)]
    async with agenthost_client(registry) as (client, app):
        runs = asyncio.gather(
            *(run(client, text, "conv-race", on_busy="enqueue") for text in texts)
        )
        # All four are admitted at once; one at a time reaches the model.
        await eventually(lambda: app.state.lifecycle.in_flight == len(texts))
        assert mock_llm.stats()["in_flight"] <= 1
        await runs
        session = (await client.get("/v1/sessions/conv-race")).json()
    messages = conversation(session)
    assert len(messages) == 2 * len(texts)
    assert sorted(text for role, text in messages if role == "user") == sorted(texts)
    replies = sorted(text for role, text in messages if role == "assistant")
    assert replies == sorted(f"Mock reply: message {i}" for i in range(4))
    # One run's turn at a time: each user message is followed by its own reply.
    pairs = list(zip(messages[::2], messages[1::2], strict=True))
    assert all(reply == f"Mock reply: {user.split(' [[')[0]}" for (_, user), (_, reply) in pairs)


async def test_delete_forgets_the_conversation(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        await run(client, "remember this", "conv-del")
        deleted = await client.delete("/v1/sessions/conv-del")
        gone = await client.get("/v1/sessions/conv-del")
        again = await client.delete("/v1/sessions/conv-del")
        await run(client, "fresh start", "conv-del")
        restarted = (await client.get("/v1/sessions/conv-del")).json()
    assert deleted.status_code == 204 and deleted.content == b""
    assert gone.status_code == 404 and gone.json()["code"] == "SESSION_NOT_FOUND"
    assert again.status_code == 404
    assert [text for _, text in conversation(restarted)] == [
        "fresh start",
        "Mock reply: fresh start",
    ]


@pytest.mark.parametrize("session_id", ["a b", "x" * 129, "", "slash/es", "ünï"])
async def test_invalid_session_ids_are_422(
    agenthost_client: Any, registry: Any, session_id: str
) -> None:
    async with agenthost_client(registry) as (client, _):
        response = await client.post(
            "/v1/agents/echo/runs", json={"input": "hi", "session_id": session_id}
        )
        usage = (await client.get("/v1/usage")).json()
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["session_id"]
    assert usage["totals"]["runs"] == 0


async def test_invalid_session_id_in_the_path_is_422(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry) as (client, _):
        read = await client.get("/v1/sessions/a%20b")
        delete = await client.delete("/v1/sessions/" + "x" * 129)
    for response in (read, delete):
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["path.session_id"]


async def test_deleting_needs_runs_write(agenthost_client: Any, registry: Any) -> None:
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        writer = await tenant_with_key(app, "acme")
        reader = await tenant_with_key(app, "acme-ro", "runs:read")
        shared = {"input": "hi", "session_id": "conv-k"}
        await client.post("/v1/agents/echo/runs", json=shared, headers=writer.headers)
        own_read = await client.get("/v1/sessions/conv-k", headers=writer.headers)
        refused = await client.delete("/v1/sessions/conv-k", headers=reader.headers)
    assert own_read.status_code == 200
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
