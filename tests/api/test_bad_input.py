"""Every kind of bad input gets its 4xx problem, never a 500 or a stack trace."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.agents import ToolLog, build_registry

RUN = "/v1/agents/echo/runs"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture
async def client(agenthost_client: Any) -> Any:
    async with agenthost_client(
        build_registry(ToolLog()), max_body_bytes=4096, max_input_chars=100
    ) as (client, _):
        yield client


async def test_unknown_agent(client: Any) -> None:
    body = assert_problem(
        await client.post("/v1/agents/nobody/runs", json={"input": "hi"}), 404, "AGENT_NOT_FOUND"
    )
    assert "nobody" in body["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "input"),
        ({"input": 42}, "input"),
        ({"input": ""}, "input"),
        ({"input": "hi", "stream": "yes please"}, "stream"),
        ({"input": "hi", "metadata": {"k": 1}}, "metadata.k"),
        ({"input": "hi", "surprise": True}, "surprise"),
        ({"input": "hi", "session_id": "has spaces"}, "session_id"),
    ],
)
async def test_missing_or_wrong_fields_name_the_field(
    client: Any, payload: dict[str, Any], field: str
) -> None:
    body = assert_problem(await client.post(RUN, json=payload), 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in body["errors"]]


async def test_body_must_be_a_json_object(client: Any) -> None:
    assert_problem(await client.post(RUN, json=["input"]), 422, "VALIDATION_ERROR")


async def test_non_json_body(client: Any) -> None:
    response = await client.post(
        RUN, content=b"input=hello", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "MALFORMED_REQUEST")


async def test_body_over_the_limit(client: Any) -> None:
    response = await client.post(RUN, json={"input": "x" * 5000})
    body = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert "4096" in body["detail"]


async def test_input_over_the_configured_length(client: Any) -> None:
    body = assert_problem(
        await client.post(RUN, json={"input": "y" * 101}), 422, "VALIDATION_ERROR"
    )
    assert body["detail"].startswith("input: at most 100 characters")


async def test_control_characters_stripped_and_text_not_escaped(client: Any) -> None:
    response = await client.post(RUN, json={"input": "a < b && c\x00\x07 > d\n<b>x</b>"})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == "Mock reply: a < b && c > d\n<b>x</b>"


async def test_unknown_route_and_wrong_method(client: Any) -> None:
    assert_problem(await client.get("/v1/nothing"), 404, "NOT_FOUND")
    assert_problem(await client.get(RUN), 405, "METHOD_NOT_ALLOWED")


async def test_background_runs_refuse_clearly(client: Any) -> None:
    assert_problem(
        await client.post(RUN, json={"input": "hi", "background": True}), 501, "NOT_IMPLEMENTED"
    )


@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}],
)
async def test_body_not_sent_as_json(client: Any, headers: dict[str, str]) -> None:
    response = await client.post(RUN, content=b'{"input": "hi"}', headers=headers)
    body = assert_problem(response, 400, "MALFORMED_REQUEST")
    assert "application/json" in body["detail"]


async def test_undecodable_body(client: Any) -> None:
    response = await client.post(
        RUN, content=b'{"input": "\xff"}', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "MALFORMED_REQUEST")


async def test_wrong_method_lists_the_allowed_ones(client: Any) -> None:
    response = await client.request("TRACE", "/health")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_agent_names_that_cannot_exist_are_404(client: Any) -> None:
    for name in ("foo%20bar", "x" * 300):
        response = await client.post(f"/v1/agents/{name}/runs", json={"input": "hi"})
        assert_problem(response, 404, "AGENT_NOT_FOUND")
    response = await client.post("/v1/agents/ghost/runs", json={"input": "hi", "background": True})
    assert_problem(response, 404, "AGENT_NOT_FOUND")


async def test_guide_route_errors_keep_the_guides_error_member(client: Any) -> None:
    missing = await client.post("/api/agents/execute", json={"input": "hi"})
    body = assert_problem(missing, 400, "VALIDATION_ERROR")
    assert body["success"] is False and "agentName" in body["error"]
    unknown = await client.post("/api/agents/execute", json={"agentName": "x", "input": "hi"})
    assert assert_problem(unknown, 404, "AGENT_NOT_FOUND")["error"] == "Agent not found: x"
