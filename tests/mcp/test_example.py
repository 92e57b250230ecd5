"""The ``library`` example agent answers from its MCP server (shipped in ``examples/``), and its
MCP spans are in the run's trace."""

from __future__ import annotations

import httpx2
from examples.library import registry
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agenthost.api.app import create_app
from agenthost.container import build_container
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.conftest import mock_settings, serving
from tests.waiting import eventually


async def test_the_library_example_finds_a_book_through_its_mcp_server(
    mock_llm: MockLLMServer,
) -> None:
    settings = mock_settings(mock_llm)
    container = build_container(settings, registry=registry)
    exporter = InMemorySpanExporter()
    container.tracing.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, container=container)
    async with serving(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post(
            "/v1/agents/library/runs", json={"input": "Find the book Dune"}
        )
        ready = await client.get("/ready")
        await eventually(
            lambda: any(s.name == "run library" for s in exporter.get_finished_spans())
        )
    assert response.status_code == 200, response.text
    assert response.json()["output"] == (
        "Result: Dune (Frank Herbert, 1965): shelf S-12, 2 copies available"
    )
    assert ready.json()["checks"]["mcp:catalogue"] == "ok"
    spans = {span.name: span for span in exporter.get_finished_spans()}
    for name in ("mcp_tools", "tool find_book"):
        assert (spans[name].attributes or {})["agents.mcp.server"] == "catalogue", name
    trace_ids = {spans[name].context.trace_id for name in ("run library", "tool find_book")}
    assert len(trace_ids) == 1  # in the run's trace
