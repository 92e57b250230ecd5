"""Secrets in settings and in a run's input reach no log line and no span, even at DEBUG."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from tests.conftest import client_for

from agenthost.settings import DeploymentSettings
from agenthost.telemetry.logging import configure_logging
from agenthost.testing.mock_llm.server import MockLLMServer

SETTINGS_SECRET = "sk-planted0settings0secret0value"
HEADER_SECRET = "planted-otlp-header-secret"
INPUT_SECRET = "hunter2-planted-input-secret"


async def test_planted_secrets_are_in_no_log_line_and_no_span(
    traced: Callable[..., Any], log_stream: io.StringIO, mock_llm: MockLLMServer
) -> None:
    configure_logging(level="DEBUG", fmt="json", sensitive=False, stream=log_stream)
    deployment = DeploymentSettings(
        name="mock",
        model="mock-gpt",
        serves=["*"],
        base_url=mock_llm.base_url,
        api_key=SecretStr(SETTINGS_SECRET),
        client=client_for(mock_llm),
    )
    overrides = {
        "deployments": [deployment],
        "otlp_headers": {"authorization": HEADER_SECRET},
        "access_log": True,
    }
    async with traced(**overrides) as (client, exporter):
        ok = await client.post(
            "/v1/agents/triage/runs",
            json={
                "input": f"Is invoice INV-42 paid? My password is {INPUT_SECRET}",
                "session_id": "s-1",
            },
        )
        mock_llm.queue_faults(*["500"] * 5)
        failed = await client.post(
            "/v1/agents/weather/runs", json={"input": f"Weather in Paris? {INPUT_SECRET}"}
        )
    assert ok.status_code == 200, ok.text
    assert failed.status_code >= 500
    logs = log_stream.getvalue()
    spans = "\n".join(s.to_json() for s in exporter.get_finished_spans())
    assert '"message": "run succeeded"' in logs and '"message": "run failed"' in logs
    assert '"run triage"' in spans and '"model_call"' in spans
    for secret in (SETTINGS_SECRET, HEADER_SECRET, INPUT_SECRET):
        assert secret not in logs
        assert secret not in spans
