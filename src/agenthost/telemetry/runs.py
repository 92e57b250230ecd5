"""A run's span, log fields and metrics: what the pipeline and settlement call.

The run span (``run <agent>``) is the parent of the Agents SDK's spans for the run; while it is
current, log records carry ``tenant``, ``agent`` and ``run_id``. Settlement reports the outcome
once, here: the span's attributes and status, and the run metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from agenthost.classify import classify
from agenthost.execution.types import RunMode, RunRequest, RunState
from agenthost.telemetry.context import bind_log_fields
from agenthost.telemetry.metrics import Metrics
from agenthost.telemetry.sdk_spans import run_tracer_bound
from agenthost.telemetry.tracing import Tracing


class RunTelemetry:
    def __init__(self, tracing: Tracing, metrics: Metrics) -> None:
        self._tracing = tracing
        self.metrics = metrics

    def start(self, request: RunRequest, mode: RunMode) -> Span:
        """The run's span, started now (not yet current: see :meth:`current`)."""
        return self._tracing.tracer.start_span(
            f"run {request.agent}",
            attributes={
                "agenthost.run.id": request.run_id,
                "agenthost.run.mode": mode,
                "agenthost.agent": request.agent,
                "agenthost.tenant": request.principal.tenant.id,
                "gen_ai.agent.name": request.agent,
            },
        )

    @contextmanager
    def current(self, span: Span, request: RunRequest, *, end: bool) -> Iterator[None]:
        """Make ``span`` current (for the SDK's spans and for logs) in the block; an error
        leaving it marks the span failed with its code. ``end``: end the span afterwards."""
        fields = bind_log_fields(
            tenant=request.principal.tenant.id, agent=request.agent, run_id=request.run_id
        )
        sdk = run_tracer_bound(self._tracing.tracer, content=self._tracing.content)
        use = trace.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )
        try:
            with use, fields, sdk:
                yield
        except BaseException as exc:
            if "agenthost.run.outcome" not in (getattr(span, "attributes", None) or {}):
                # Not settled: refused at admission (or cancelled before it was admitted).
                code = classify(exc).code.value if isinstance(exc, Exception) else "CANCELLED"
                span.set_attributes({"agenthost.run.outcome": "refused", "error.type": code})
                span.set_status(Status(StatusCode.ERROR, code))
            raise
        finally:
            if end:
                span.end()

    def settled(self, state: RunState, *, cached: bool = False) -> None:
        """Report a settled run: its span's outcome and the run metrics (``cached``: answered
        from the result cache)."""
        agent, tenant, status = state.entry.name, state.tenant_id, state.status
        usage = state.usage
        span = state.span
        span.set_attributes(
            {
                "agenthost.run.outcome": status,
                "agenthost.run.cached": cached,
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
            }
        )
        if state.error_code is not None:
            span.set_attribute("error.type", state.error_code)
            if status == "failed":
                span.set_status(Status(StatusCode.ERROR, state.error_code))
        m = self.metrics
        m.runs.labels(agent, tenant, status).inc()
        m.run_duration.labels(agent, status).observe(state.elapsed_ms() / 1000)
        if status == "failed" and state.error_code is not None:
            m.run_errors.labels(agent, state.error_code).inc()
        m.tokens.labels(agent, tenant, "input").inc(usage.input_tokens)
        m.tokens.labels(agent, tenant, "output").inc(usage.output_tokens)
