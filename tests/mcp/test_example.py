"""The ``library`` example agent answers from its MCP server (shipped in ``examples/``)."""

from __future__ import annotations

from typing import Any

from examples.library import registry


async def test_the_library_example_finds_a_book_through_its_mcp_server(
    agenthost_client: Any,
) -> None:
    async with agenthost_client(registry) as (client, _):
        response = await client.post(
            "/v1/agents/library/runs", json={"input": "Find the book Dune"}
        )
        ready = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["output"] == (
        "Result: Dune (Frank Herbert, 1965): shelf S-12, 2 copies available"
    )
    assert ready.json()["checks"]["mcp:catalogue"] == "ok"
