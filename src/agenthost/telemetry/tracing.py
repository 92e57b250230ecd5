"""OpenTelemetry tracing: the process's tracer provider and exporter, and trace propagation.

One :class:`Tracing` per container. Its provider is not installed as OpenTelemetry's global one
(several containers may live in one process: tests, the CLI); agenthost's code takes its tracer
from the container. The trace context itself travels in OpenTelemetry's context (contextvars),
so :func:`capture` and :func:`continued` work anywhere.

Background runs continue the trace of the request that queued them: the queuing code stores
``capture()`` with the job, and the worker runs it inside ``with continued(carrier):``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from agents import set_trace_processors
from agents.tracing import TracingProcessor
from agents.tracing.processors import default_processor
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio
from opentelemetry.trace import NoOpTracer, Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from agenthost import __version__
from agenthost.settings import ConfigError, Settings
from agenthost.telemetry.sdk_spans import OpenTelemetryProcessor

logger = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing:
    """The tracer every agenthost span comes from, and where its spans are exported."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.tracing_enabled
        self.content = settings.trace_content
        self.trust_inbound = settings.trust_trace_context
        self.provider: TracerProvider | None = None
        if not self.enabled:
            self.tracer: Tracer = NoOpTracer()
            return
        self.provider = TracerProvider(
            resource=Resource.create(
                {"service.name": settings.service_name, "service.version": __version__}
            ),
            sampler=ParentBasedTraceIdRatio(settings.trace_sample_ratio),
        )
        exporter = build_exporter(settings)
        if exporter is not None:
            self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("agenthost", __version__)

    def add_span_processor(self, processor: SpanProcessor) -> None:
        """Send spans to ``processor`` too (tests use an in-memory exporter)."""
        if self.provider is None:
            raise RuntimeError("tracing is disabled (tracing_enabled = false)")
        self.provider.add_span_processor(processor)

    def shutdown(self) -> None:
        """Export what is buffered and stop the exporter."""
        if self.provider is not None:
            self.provider.shutdown()


def build_exporter(settings: Settings) -> SpanExporter | None:
    """The exporter ``trace_exporter`` names; ConfigError if it cannot be built."""
    if settings.trace_exporter == "none":
        return None
    if settings.trace_exporter == "console":
        return ConsoleSpanExporter()
    headers = {k: v.get_secret_value() for k, v in settings.otlp_headers.items()}
    if settings.otlp_protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise ConfigError(
                "otlp_protocol = 'grpc' needs the gRPC exporter: pip install 'agenthost[otlp-grpc]'"
            ) from exc
        grpc: SpanExporter = GrpcExporter(endpoint=settings.otlp_endpoint, headers=headers or None)
        return grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(endpoint=settings.otlp_endpoint, headers=headers or None)


def install_sdk_processors(settings: Settings) -> None:
    """Route the Agents SDK's spans (a process-wide SDK setting) to OpenTelemetry, and to
    OpenAI's trace backend only when ``sdk_trace_export`` says so."""
    processors: list[TracingProcessor] = (
        [OpenTelemetryProcessor()] if settings.tracing_enabled else []
    )
    if settings.sdk_trace_export:
        processors.append(default_processor())
    set_trace_processors(processors)


def capture() -> dict[str, str]:
    """The current trace context as a W3C ``traceparent`` carrier (empty outside a trace)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    """The trace context of a carrier (``traceparent`` header or :func:`capture` output)."""
    return _PROPAGATOR.extract(dict(carrier))


@contextmanager
def continued(carrier: Mapping[str, str]) -> Iterator[None]:
    """Spans started in the block belong to the trace in ``carrier`` (a :func:`capture`)."""
    token = otel_context.attach(extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside a (recording or not) trace."""
    return trace_id_of(trace.get_current_span())


def trace_id_of(span: Span) -> str | None:
    """``span``'s trace id as 32 hex digits, or None for the invalid span (tracing off)."""
    span_context = span.get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
