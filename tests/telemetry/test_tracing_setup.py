"""Which exporter the settings choose, and that the SDK's traces never go to OpenAI unasked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from agents.tracing import get_trace_provider
from agents.tracing.processors import BatchTraceProcessor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from pydantic import SecretStr

from agenthost.settings import Settings
from agenthost.telemetry.sdk_spans import OpenTelemetryProcessor
from agenthost.telemetry.tracing import Tracing, build_exporter, install_sdk_processors


class Collector(BaseHTTPRequestHandler):
    """A loopback OTLP/HTTP receiver that keeps what it was sent."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, type[Collector]]]:
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", Collector
    finally:
        server.shutdown()
        thread.join()


def test_otlp_sends_spans_with_the_configured_headers(
    collector: tuple[str, type[Collector]],
) -> None:
    endpoint, received = collector
    tracing = Tracing(
        Settings(
            trace_exporter="otlp",
            otlp_endpoint=endpoint,
            otlp_headers={"x-backend-key": SecretStr("backend-secret")},
            service_name="agenthost-test",
        )
    )
    with tracing.tracer.start_as_current_span("exported span"):
        pass
    tracing.shutdown()  # flushes the batch
    ((path, headers, body),) = received.received
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    names = [s.name for scope in resource_spans.scope_spans for s in scope.spans]
    assert path == "/v1/traces"
    assert {k.lower(): v for k, v in headers.items()}["x-backend-key"] == "backend-secret"
    assert service["service.name"] == "agenthost-test"
    assert names == ["exported span"]


def test_none_and_console_exporters() -> None:
    assert build_exporter(Settings()) is None
    assert isinstance(build_exporter(Settings(trace_exporter="console")), ConsoleSpanExporter)


def processor_types() -> list[type]:
    multi = get_trace_provider()._multi_processor  # type: ignore[attr-defined]
    return [type(p) for p in multi._processors]


def test_the_sdk_exports_to_openai_only_when_asked() -> None:
    try:
        install_sdk_processors(Settings())
        assert processor_types() == [OpenTelemetryProcessor]
        install_sdk_processors(Settings(tracing_enabled=False))
        assert processor_types() == []
        install_sdk_processors(Settings(sdk_trace_export=True))
        assert processor_types() == [OpenTelemetryProcessor, BatchTraceProcessor]
    finally:
        install_sdk_processors(Settings())
