"""A run through the HTTP API is one trace: request → run → agent → model call / tool / handoff."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx2
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tests.waiting import eventually

from agenthost.registry import load_registry

INBOUND_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{INBOUND_TRACE}-00f067aa0ba902b7-01"
SECRET_PROMPT = "INV-42 zebra-quokka-marker"


def by_name(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[str]:
    """Names of ``span``'s ancestors, nearest first."""
    index = {s.context.span_id: s for s in spans}
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in index:
        found = index[parent.span_id]
        names.append(found.name)
        parent = found.parent
    return names


async def run_triage(client: httpx2.AsyncClient, exporter: InMemorySpanExporter) -> Any:
    response = await client.post(
        "/v1/agents/triage/runs",
        json={"input": f"Is invoice {SECRET_PROMPT} paid?"},
        headers={"traceparent": TRACEPARENT},
    )
    assert response.status_code == 200, response.text
    await eventually(lambda: any(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans()))
    return response


async def test_one_trace_from_request_to_model_calls_tools_and_handoffs(
    traced: Callable[..., Any],
) -> None:
    async with traced() as (client, exporter):
        response = await run_triage(client, exporter)
    spans = exporter.get_finished_spans()
    assert response.headers["x-trace-id"] == INBOUND_TRACE
    assert {format(s.context.trace_id, "032x") for s in spans} == {INBOUND_TRACE}

    (server,) = by_name(spans, "POST /v1/agents/{agent}/runs")
    assert server.kind is SpanKind.SERVER
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/agents/{agent}/runs"
    assert server.attributes["http.response.status_code"] == 200
    assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"  # type: ignore[union-attr]

    (run,) = by_name(spans, "run triage")
    assert run.parent is not None and run.parent.span_id == server.context.span_id
    run_id = response.json()["run_id"]
    assert (
        dict(run.attributes or {}).items()
        >= {
            "agenthost.run.id": run_id,
            "agenthost.agent": "triage",
            "agenthost.tenant": "dev",
            "agenthost.run.outcome": "succeeded",
            "agenthost.run.cached": False,
        }.items()
    )

    (triage,) = by_name(spans, "agent triage")
    (billing,) = by_name(spans, "agent billing")
    assert ancestors(triage, spans)[-2:] == ["run triage", server.name]
    assert "run triage" in ancestors(billing, spans)
    (handoff,) = by_name(spans, "handoff")
    assert handoff.attributes is not None
    assert (handoff.attributes["agents.handoff.from"], handoff.attributes["agents.handoff.to"]) == (
        "triage",
        "billing",
    )
    assert "agent triage" in ancestors(handoff, spans)
    (tool,) = by_name(spans, "tool lookup_invoice")
    assert "agent billing" in ancestors(tool, spans)
    (guardrail,) = by_name(spans, "guardrail no_card_numbers")
    assert (
        guardrail.attributes is not None
        and guardrail.attributes["agents.guardrail.triggered"] is False
    )

    calls = by_name(spans, "model_call")
    assert len(calls) == response.json()["usage"]["requests"]
    assert {ancestors(c, spans)[-1] for c in calls} == {server.name}
    assert any("agent billing" in ancestors(c, spans) for c in calls)
    for call in calls:
        attrs = call.attributes or {}
        assert attrs["agenthost.deployment"] == "mock"
        assert attrs["gen_ai.request.model"] == "mock-gpt"
        assert int(attrs["gen_ai.usage.input_tokens"]) > 0  # type: ignore[arg-type]
    total_input = sum(int(c.attributes["gen_ai.usage.input_tokens"]) for c in calls)  # type: ignore[index,arg-type]
    assert total_input == response.json()["usage"]["input_tokens"]


def text_on(span: ReadableSpan) -> str:
    """Everything a span carries as text: name, attributes, events, status."""
    parts = [span.name, str(span.status.description or "")]
    parts += [str(v) for v in (span.attributes or {}).values()]
    for event in span.events:
        parts += [event.name, *(str(v) for v in (event.attributes or {}).values())]
    return "\n".join(parts)


@pytest.mark.parametrize("content", [False, True])
async def test_prompts_and_outputs_reach_spans_only_when_enabled(
    traced: Callable[..., Any], content: bool
) -> None:
    async with traced(trace_content=content) as (client, exporter):
        response = await run_triage(client, exporter)
    carried = "\n".join(text_on(s) for s in exporter.get_finished_spans())
    output = response.json()["output"]
    assert (SECRET_PROMPT in carried) is content
    assert (output in carried) is content


async def test_a_request_without_traceparent_starts_a_trace_and_names_it(
    traced: Callable[..., Any],
) -> None:
    async with traced() as (client, exporter):
        response = await client.get("/v1/agents")
        await eventually(lambda: len(exporter.get_finished_spans()) == 1)
    (span,) = exporter.get_finished_spans()
    assert span.parent is None
    assert response.headers["x-trace-id"] == format(span.context.trace_id, "032x")
    assert span.name == "GET /v1/agents"


async def test_untrusted_trace_context_is_ignored(traced: Callable[..., Any]) -> None:
    async with traced(trust_trace_context=False) as (client, _):
        response = await client.get("/v1/agents", headers={"traceparent": TRACEPARENT})
    assert response.headers["x-trace-id"] != INBOUND_TRACE


async def test_tracing_off_makes_no_trace_ids(agenthost_client: Callable[..., Any]) -> None:
    registry = load_registry("examples.registry:registry")
    async with agenthost_client(registry, tracing_enabled=False) as (client, _):
        response = await client.post("/v1/agents/weather/runs", json={"input": "Paris?"})
    assert response.status_code == 200
    assert "x-trace-id" not in response.headers
