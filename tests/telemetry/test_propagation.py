"""Trace context carried in a dict: what a background job stores and its worker continues."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tests.waiting import eventually

from agenthost.settings import Settings
from agenthost.telemetry.tracing import Tracing, capture, continued, current_trace_id


def tracing_to_memory(**settings: Any) -> tuple[Tracing, InMemorySpanExporter]:
    tracing = Tracing(Settings(**settings))
    exporter = InMemorySpanExporter()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    return tracing, exporter


def test_a_captured_context_is_continued_elsewhere() -> None:
    tracing, exporter = tracing_to_memory()
    with tracing.tracer.start_as_current_span("queue the run", kind=SpanKind.SERVER) as queued:
        carrier = capture()
    assert current_trace_id() is None and capture() == {}
    with continued(carrier):
        assert current_trace_id() == format(queued.get_span_context().trace_id, "032x")
        with tracing.tracer.start_as_current_span("run in the worker"):
            pass
    assert current_trace_id() is None
    worker, queuing = exporter.get_finished_spans()[::-1]
    assert worker.context.trace_id == queuing.context.trace_id
    assert worker.parent is not None and worker.parent.span_id == queuing.context.span_id


def test_a_sample_ratio_of_zero_records_nothing_but_keeps_ids() -> None:
    tracing, exporter = tracing_to_memory(trace_sample_ratio=0.0)
    with tracing.tracer.start_as_current_span("dropped"):
        assert current_trace_id() is not None
    assert exporter.get_finished_spans() == ()


async def test_a_streamed_run_is_one_trace(traced: Callable[..., Any]) -> None:
    async with traced() as (client, exporter):
        async with client.stream(
            "POST",
            "/v1/agents/weather/runs",
            json={"input": "What is the weather in Paris?", "stream": True},
        ) as response:
            body = "".join([chunk async for chunk in response.aiter_text()])
        await eventually(
            lambda: any(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans())
        )
    assert "event: final" in body
    spans = {s.name: s for s in exporter.get_finished_spans()}
    server, run = spans["POST /v1/agents/{agent}/runs"], spans["run weather"]
    assert run.parent is not None and run.parent.span_id == server.context.span_id
    assert (run.attributes or {})["agenthost.run.mode"] == "stream"
    assert (run.attributes or {})["agenthost.run.outcome"] == "succeeded"
    assert {s.context.trace_id for s in spans.values()} == {server.context.trace_id}
    for name in ("agent weather", "model_call", "tool get_weather"):
        assert name in spans


async def test_a_refused_run_has_a_failed_span(traced: Callable[..., Any]) -> None:
    async with traced() as (client, exporter):
        response = await client.post("/v1/agents/triage/runs", json={"input": "x" * 60_000})
        await eventually(
            lambda: any(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans())
        )
    assert response.status_code == 422
    (run,) = [s for s in exporter.get_finished_spans() if s.name == "run triage"]
    assert (run.attributes or {})["agenthost.run.outcome"] == "refused"
    assert (run.attributes or {})["error.type"] == "VALIDATION_ERROR"
