"""A background run continues the trace of the request that queued it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.telemetry.test_traces import INBOUND_TRACE, TRACEPARENT, ancestors, by_name
from tests.waiting import eventually


async def test_background_run_spans_join_the_queuing_requests_trace(
    traced: Callable[..., Any],
) -> None:
    async with traced(background_runs=True, queue_poll_s=0.02) as (client, exporter):
        response = await client.post(
            "/v1/agents/weather/runs",
            json={"input": "What is the weather in Paris?", "background": True},
            headers={"traceparent": TRACEPARENT},
        )
        assert response.status_code == 202, response.text
        await eventually(lambda: bool(by_name(exporter.get_finished_spans(), "run weather")))
    spans = exporter.get_finished_spans()
    (run,) = by_name(spans, "run weather")
    assert format(run.context.trace_id, "032x") == INBOUND_TRACE
    assert run.attributes is not None
    assert run.attributes["agenthost.run.mode"] == "background"
    assert run.attributes["agenthost.run.outcome"] == "succeeded"
    tools = [s for s in spans if run.name in ancestors(s, spans) and "get_weather" in s.name]
    assert tools, [s.name for s in spans]
