"""The Agents SDK's tracing, as OpenTelemetry spans in the trace of the run.

A small :class:`~agents.tracing.TracingProcessor` rather than a published bridge: it puts the
SDK's agent, turn, model-call, tool, handoff and guardrail spans under agenthost's own run span
(the OpenTelemetry span current where ``Runner.run`` starts its trace), names attributes with
OpenTelemetry's ``gen_ai.*`` conventions, and copies prompts, outputs and tool arguments only
when ``trace_content`` is on. The SDK's trace itself gets no span of its own: its top-level
spans become children of the run span.

The tracer is taken from the context the SDK trace starts in (:func:`run_tracer_bound`), so the
processor holds no tracer and one instance serves every container of the process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor
from agents.tracing.span_data import (
    AgentSpanData,
    CustomSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    MCPListToolsSpanData,
    ResponseSpanData,
    SpanData,
    TaskSpanData,
    TurnSpanData,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer

from agenthost.telemetry.logging import mask_secrets

_run_tracer: ContextVar[tuple[Tracer, bool] | None] = ContextVar(
    "agenthost_run_tracer", default=None
)
MAX_CONTENT_CHARS = 4096
MAX_ERROR_CHARS = 300

_SCALARS = (str, int, float, bool)
Attributes = dict[str, str | int | float | bool | list[str]]


@contextmanager
def run_tracer_bound(tracer: Tracer, *, content: bool) -> Iterator[None]:
    """SDK spans started in this block go to ``tracer``; ``content``: prompts/outputs too."""
    token = _run_tracer.set((tracer, content))
    try:
        yield
    finally:
        _run_tracer.reset(token)


@dataclass(slots=True)
class _BoundTrace:
    tracer: Tracer
    content: bool
    """Prompts and outputs go on spans too."""
    context: otel_context.Context
    """The parent of its top spans: the run span."""
    open_spans: set[str] = field(default_factory=set)
    """Its SDK spans started and not yet ended."""


class OpenTelemetryProcessor(TracingProcessor):
    """Mirrors each SDK span as an OpenTelemetry span, parented as in the SDK's trace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # SDK trace id → its tracer, content flag, run span context and open spans
        self._traces: dict[str, _BoundTrace] = {}
        # SDK span id → (SDK trace id, its OpenTelemetry span)
        self._spans: dict[str, tuple[str, trace.Span]] = {}

    def on_trace_start(self, sdk_trace: Trace) -> None:
        bound = _run_tracer.get()
        if bound is not None:
            tracer, content = bound
            with self._lock:
                self._traces[sdk_trace.trace_id] = _BoundTrace(
                    tracer, content, otel_context.get_current()
                )

    def on_trace_end(self, sdk_trace: Trace) -> None:
        """Forget the trace; end any of its spans the SDK left open."""
        with self._lock:
            bound = self._traces.pop(sdk_trace.trace_id, None)
            left = () if bound is None else bound.open_spans
            spans = [self._spans.pop(span_id)[1] for span_id in left]
        for otel_span in spans:
            otel_span.end()

    def on_span_start(self, span: Span[Any]) -> None:
        with self._lock:
            bound = self._traces.get(span.trace_id)
            parent = self._spans.get(span.parent_id) if span.parent_id else None
        if bound is None:
            return
        context = trace.set_span_in_context(parent[1]) if parent is not None else bound.context
        otel_span = bound.tracer.start_span(span_name(span.span_data), context=context)
        with self._lock:
            if self._traces.get(span.trace_id) is bound:  # its trace did not end meanwhile
                self._spans[span.span_id] = (span.trace_id, otel_span)
                bound.open_spans.add(span.span_id)
                return
        otel_span.end()

    def on_span_end(self, span: Span[Any]) -> None:
        with self._lock:
            entry = self._spans.pop(span.span_id, None)
            bound = self._traces.get(span.trace_id)
            if bound is not None:
                bound.open_spans.discard(span.span_id)
        if entry is None:
            return
        otel_span = entry[1]
        content = bound is not None and bound.content
        otel_span.set_attributes(span_attributes(span.span_data, content=content))
        error = span.error
        if error is not None:
            message = mask_secrets(str(error.get("message", "")))[:MAX_ERROR_CHARS]
            otel_span.set_status(Status(StatusCode.ERROR, message))
        otel_span.end()

    def shutdown(self) -> None:
        with self._lock:
            spans = [otel_span for _, otel_span in self._spans.values()]
            self._spans.clear()
            self._traces.clear()
        for otel_span in spans:
            otel_span.end()

    def force_flush(self) -> None:
        """Spans are handed to OpenTelemetry as they end; its processors flush them."""


def span_name(data: SpanData) -> str:
    """``agent triage``, ``model_call``, ``tool get_weather``, ``handoff``, ... (bounded)."""
    if isinstance(data, AgentSpanData):
        return f"agent {data.name}"
    if isinstance(data, FunctionSpanData):
        return f"tool {data.name}"
    if isinstance(data, GuardrailSpanData):
        return f"guardrail {data.name}"
    if isinstance(data, CustomSpanData):
        return data.name
    return data.type


def span_attributes(data: SpanData, *, content: bool) -> Attributes:
    """Attributes of one SDK span; prompts, outputs and tool arguments only if ``content``."""
    attrs: Attributes = {"agents.span.type": data.type}
    if isinstance(data, AgentSpanData):
        attrs["gen_ai.operation.name"] = "invoke_agent"
        attrs["gen_ai.agent.name"] = data.name
        attrs["agents.agent.handoffs"] = list(data.handoffs or [])
        attrs["agents.agent.tools"] = list(data.tools or [])
        if data.output_type:
            attrs["agents.agent.output_type"] = data.output_type
    elif isinstance(data, TurnSpanData):
        attrs.update({"agents.turn": data.turn, "gen_ai.agent.name": data.agent_name})
    elif isinstance(data, TaskSpanData):
        attrs["agents.workflow"] = data.name
    elif isinstance(data, GenerationSpanData | ResponseSpanData):
        attrs.update(_model_attributes(data))
    elif isinstance(data, FunctionSpanData):
        attrs.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": data.name})
        server = (data.mcp_data or {}).get("server")
        if isinstance(server, str):  # a tool of an MCP server
            attrs["agents.mcp.server"] = server
    elif isinstance(data, HandoffSpanData):
        attrs["agents.handoff.from"] = data.from_agent or ""
        attrs["agents.handoff.to"] = data.to_agent or ""
    elif isinstance(data, GuardrailSpanData):
        attrs.update(
            {"agents.guardrail.name": data.name, "agents.guardrail.triggered": data.triggered}
        )
    elif isinstance(data, MCPListToolsSpanData):
        attrs["agents.mcp.server"] = data.server or ""
    elif isinstance(data, CustomSpanData):
        attrs.update(
            {k: v for k, v in data.data.items() if isinstance(v, str | int | float | bool)}
        )
    if content:
        attrs.update(_content_attributes(data))
    return attrs


def _model_attributes(data: GenerationSpanData | ResponseSpanData) -> Attributes:
    attrs: Attributes = {"gen_ai.operation.name": "chat"}
    usage = data.usage
    model: str | None = None
    if isinstance(data, GenerationSpanData):
        model = data.model
    elif data.response is not None:
        model = data.response.model
        if usage is None and data.response.usage is not None:
            usage = data.response.usage.model_dump()
    if model:
        attrs["gen_ai.response.model"] = model
    for key in ("input_tokens", "output_tokens"):
        value = (usage or {}).get(key)
        if isinstance(value, int):
            attrs[f"gen_ai.usage.{key}"] = value
    return attrs


def _content_attributes(data: SpanData) -> Attributes:
    """Prompts and outputs, for deployments that opted in with ``trace_content``."""
    pairs: dict[str, Any] = {}
    if isinstance(data, GenerationSpanData | FunctionSpanData):
        pairs = {"input": data.input, "output": data.output}
    elif isinstance(data, ResponseSpanData):
        pairs = {"input": data.input}
    return {f"agents.content.{key}": _truncated(value) for key, value in pairs.items() if value}


def _truncated(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_CONTENT_CHARS]
