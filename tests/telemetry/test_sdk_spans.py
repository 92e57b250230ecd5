"""The SDK → OpenTelemetry span bridge: parents, and spans a trace leaves open."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from agents.tracing.span_data import CustomSpanData, FunctionSpanData
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agenthost.telemetry.sdk_spans import OpenTelemetryProcessor, run_tracer_bound, span_attributes


def _trace(trace_id: str) -> Any:
    return SimpleNamespace(trace_id=trace_id)


def _span(trace_id: str, span_id: str, parent_id: str | None = None) -> Any:
    data = CustomSpanData(name=span_id, data={})
    return SimpleNamespace(
        trace_id=trace_id, span_id=span_id, parent_id=parent_id, span_data=data, error=None
    )


def test_a_trace_ending_ends_only_its_own_open_spans() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    processor = OpenTelemetryProcessor()
    with run_tracer_bound(provider.get_tracer("test"), content=False):
        processor.on_trace_start(_trace("t1"))
        processor.on_trace_start(_trace("t2"))
    processor.on_span_start(_span("t1", "a"))
    processor.on_span_start(_span("t1", "a.child", parent_id="a"))
    processor.on_span_start(_span("t2", "b"))
    processor.on_span_end(_span("t1", "a.child"))
    processor.on_trace_end(_trace("t1"))  # "a" was left open by the SDK
    ended = {span.name: span for span in exporter.get_finished_spans()}
    assert set(ended) == {"a", "a.child"}
    assert ended["a.child"].parent is not None
    assert ended["a.child"].parent.span_id == ended["a"].context.span_id
    processor.on_span_end(_span("t2", "b"))  # the other trace's span is still tracked
    processor.on_trace_end(_trace("t2"))
    assert {span.name for span in exporter.get_finished_spans()} == {"a", "a.child", "b"}
    processor.shutdown()
    assert len(exporter.get_finished_spans()) == 3


def test_a_tool_span_of_an_mcp_server_names_the_server() -> None:
    mcp_call = FunctionSpanData(name="count_visitors", input="{}", output=None)
    mcp_call.mcp_data = {"server": "counter"}
    attributes = span_attributes(mcp_call, content=False)
    assert attributes["gen_ai.tool.name"] == "count_visitors"
    assert attributes["agents.mcp.server"] == "counter"
    plain = span_attributes(FunctionSpanData(name="lookup", input="{}", output=None), content=False)
    assert "agents.mcp.server" not in plain
