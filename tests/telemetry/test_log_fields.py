"""Log lines of a request carry its trace id; those of a run also its tenant, agent and run id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

from agenthost.telemetry.logging import configure_logging
from agenthost.testing.mock_llm.server import MockLLMServer


async def test_run_log_lines_name_the_trace_tenant_agent_and_run(
    traced: Callable[..., Any], log_stream: io.StringIO, mock_llm: MockLLMServer
) -> None:
    configure_logging(level="INFO", fmt="json", sensitive=False, stream=log_stream)
    mock_llm.queue_faults("503")  # the model layer logs the retry, naming no run itself
    async with traced(access_log=True) as (client, _):
        response = await client.post(
            "/v1/agents/weather/runs", json={"input": "What is the weather in Paris?"}
        )
    logging.getLogger().handlers[-1].flush()
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    trace_id = response.headers["x-trace-id"]
    run_id = response.json()["run_id"]
    (retried,) = [line for line in lines if line["message"].startswith("retrying model call")]
    (access,) = [line for line in lines if line["logger"] == "agenthost.access"]
    assert {k: retried.get(k) for k in ("trace_id", "tenant", "agent", "run_id")} == {
        "trace_id": trace_id,
        "tenant": "dev",
        "agent": "weather",
        "run_id": run_id,
    }
    assert access["trace_id"] == trace_id
    (settled,) = [line for line in lines if line["message"] == "run succeeded"]
    assert {k: settled.get(k) for k in ("run_id", "agent", "tenant", "status")} == {
        "run_id": run_id,
        "agent": "weather",
        "tenant": "dev",
        "status": "succeeded",
    }
    assert settled["requests"] >= 1 and settled["input_tokens"] > 0
    assert "run_id" not in access  # bound for the run only, not the whole request
