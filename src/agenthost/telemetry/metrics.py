"""Prometheus metrics: every metric agenthost exports, built once per process into the container.

Label values are bounded: agent, tenant, deployment, model and MCP server names come from
configuration, MCP tool names from each server's tool list (a bounded number per server, see
:mod:`agenthost.mcp.managed`), ``status``/``code``/``kind``/``outcome`` from fixed sets,
``route`` is the route template. No run ids, no free text.

Several server processes (``serve --workers N``) share one metrics directory
(prometheus-client's multiprocess mode): each process writes its values to memory-mapped files
there and ``/metrics``, whichever process answers, sums them. prometheus-client decides the
mode from ``PROMETHEUS_MULTIPROC_DIR`` when it is first imported (its one process-wide state);
the supervisor sets it for its workers, see :func:`multiprocess_environment`. Without it each
process keeps its own registry, so separate containers (tests, the CLI) never share values.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import prometheus_client
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Runs last from a second to minutes; model calls from tens of milliseconds to a minute.
RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
CALL_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
"""Values of ``agenthost_breaker_state``: the worst state across processes is the max."""


class _KnownChildren:
    """``labels(*values)`` answered from a dict once the label set has been seen.

    prometheus-client checks the label count, converts every value to ``str`` and takes a lock
    on each ``labels()`` call; the hot path calls it several times per request with a handful of
    label sets. Children are the library's own (the same objects it returns), so every label set
    still counts apart; ``remove`` and ``clear`` forget the remembered ones.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._children: dict[tuple[Any, ...], Self] = {}
        super().__init__(*args, **kwargs)

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self:
        if labelkwargs:
            made: Self = super().labels(*labelvalues, **labelkwargs)  # type: ignore[misc]
            return made
        child: Self | None = self._children.get(labelvalues)
        if child is None:
            child = super().labels(*labelvalues)  # type: ignore[misc]
            self._children[labelvalues] = child
        return child

    def remove(self, *labelvalues: Any) -> None:
        self._children.clear()
        super().remove(*labelvalues)  # type: ignore[misc]

    def clear(self) -> None:
        self._children.clear()
        super().clear()  # type: ignore[misc]


class Counter(_KnownChildren, prometheus_client.Counter):
    """A ``prometheus_client.Counter`` whose ``labels()`` is a dict lookup once seen."""


class Gauge(_KnownChildren, prometheus_client.Gauge):
    """A ``prometheus_client.Gauge`` whose ``labels()`` is a dict lookup once seen."""


class Histogram(_KnownChildren, prometheus_client.Histogram):
    """A ``prometheus_client.Histogram`` whose ``labels()`` is a dict lookup once seen."""


class Metrics:
    """The metric objects, as attributes; hand the instance to whatever records them."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        if multiprocess_dir is not None and not in_multiprocess_mode():
            raise RuntimeError(f"{MULTIPROC_ENV} must name {multiprocess_dir} at start-up")
        self.multiprocess_dir = multiprocess_dir
        # In multiprocess mode values live in files; the metric objects register nowhere.
        self._registry = CollectorRegistry() if multiprocess_dir is None else None
        r = self._registry
        self.runs = Counter(
            "agenthost_runs",
            "Finished runs by agent, tenant and status (succeeded, failed, cancelled; "
            "awaiting_approval each time a run stops for approval, expired when it waited too "
            "long).",
            ["agent", "tenant", "status"],
            registry=r,
        )
        self.run_duration = Histogram(
            "agenthost_run_duration_seconds",
            "Run duration from admission to settlement.",
            ["agent", "status"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.run_errors = Counter(
            "agenthost_run_errors",
            "Failed runs by agent and error code.",
            ["agent", "code"],
            registry=r,
        )
        self.tokens = Counter(
            "agenthost_tokens",
            "Model tokens used by runs, by agent, tenant and kind (input, output).",
            ["agent", "tenant", "kind"],
            registry=r,
        )
        self.runs_in_flight = Gauge(
            "agenthost_runs_in_flight",
            "Runs executing now, across server processes.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.model_calls = Counter(
            "agenthost_model_calls",
            "Model calls by deployment, model name and outcome (ok, error).",
            ["deployment", "model", "outcome"],
            registry=r,
        )
        self.model_call_duration = Histogram(
            "agenthost_model_call_duration_seconds",
            "Duration of one model call (one attempt) by deployment.",
            ["deployment"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.model_call_errors = Counter(
            "agenthost_model_call_errors",
            "Failed model calls by deployment and error code.",
            ["deployment", "code"],
            registry=r,
        )
        self.model_retries = Counter(
            "agenthost_model_retries",
            "Model calls retried, by logical model name and the error that caused the retry.",
            ["model", "code"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "agenthost_breaker_state",
            "Circuit breaker state by deployment: 0 closed, 1 half-open, 2 open (worst process).",
            ["deployment"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.rate_limit_refusals = Counter(
            "agenthost_rate_limit_refusals",
            "Requests refused by a rate limit, by the limit's scope (key, tenant, ip).",
            ["scope"],
            registry=r,
        )
        self.quota_refusals = Counter(
            "agenthost_quota_refusals",
            "Runs refused by a tenant quota, by tenant and quota.",
            ["tenant", "quota"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "agenthost_queue_depth",
            "Background runs waiting in the run queue (set by whoever measures it last).",
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.background_runs = Gauge(
            "agenthost_background_runs",
            "Background runs by state (queued, running), as last measured.",
            ["state"],
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.cache_lookups = Counter(
            "agenthost_cache_lookups",
            "Result cache lookups by agent and result (hit, miss).",
            ["agent", "result"],
            registry=r,
        )
        self.cache_evictions = Counter(
            "agenthost_cache_evictions",
            "Result cache entries evicted.",
            registry=r,
        )
        self.mcp_calls = Counter(
            "agenthost_mcp_calls",
            "MCP tool calls by server, tool and outcome (ok, tool_error, error, unavailable, "
            "cancelled).",
            ["server", "tool", "outcome"],
            registry=r,
        )
        self.mcp_call_duration = Histogram(
            "agenthost_mcp_call_duration_seconds",
            "Duration of one MCP tool call by server.",
            ["server"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.mcp_server_up = Gauge(
            "agenthost_mcp_server_up",
            "Whether the MCP server is connected: 1 up, 0 down (the lowest of the processes).",
            ["server"],
            registry=r,
            multiprocess_mode="livemin",
        )
        self.mcp_connects = Counter(
            "agenthost_mcp_connects",
            "Connection attempts to MCP servers by server and outcome (ok, error).",
            ["server", "outcome"],
            registry=r,
        )
        self.http_requests = Counter(
            "agenthost_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "agenthost_http_request_duration_seconds",
            "HTTP request duration (to the end of the response body) by method and route.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )

    def set_breaker_state(self, deployment: str, state: str) -> None:
        self.breaker_state.labels(deployment).set(BREAKER_STATES[state])

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition of every metric (of every process in multiprocess mode)."""
        if self._registry is not None:
            return generate_latest(self._registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(self.multiprocess_dir)
        )
        return generate_latest(registry), CONTENT_TYPE_LATEST


def in_multiprocess_mode() -> bool:
    """True if prometheus-client was imported with a metrics directory in the environment."""
    return values.ValueClass is not values.MutexValue


@contextmanager
def multiprocess_environment() -> Iterator[Path]:
    """A fresh metrics directory for one supervised server, in the environment its spawned
    workers inherit; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="agenthost-metrics-"))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def mark_process_dead(directory: Path, pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay counted)."""
    multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
