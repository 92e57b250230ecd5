"""A secret planted in every provider is used for model calls, follows a rotation, and shows
up nowhere an operator or a caller can look (``_surfaces``): logs, response bodies,
``/metrics`` and the exported spans.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx2
from agents import Agent
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agenthost.api.app import create_app
from agenthost.container import build_container
from agenthost.registry import AgentRegistry
from agenthost.settings import DeploymentSettings
from agenthost.telemetry.logging import configure_logging
from agenthost.testing.mock_llm.server import MockLLMServer
from agenthost.testing.mock_llm.stats import key_fingerprint
from tests.conftest import client_for, mock_settings, serving
from tests.security.conftest import VAULT_TOKEN
from tests.security.fake_vault import VaultState

KEYS = {
    "env": "sk-planted-env-0a1b2c3d4e",
    "file": "planted-file-key-5f6a7b8c",
    "vault": "planted.vault.key~9d0e1f",
    "aws": "planted/aws+key=2a3b4c",
}
ROTATED = "planted-file-key-ROTATED-77"
METRICS_TOKEN = "planted-metrics-token-3e4f"


def _registry() -> AgentRegistry:
    registry = AgentRegistry()
    registry.register(Agent(name="echo", instructions="Answer briefly."))
    return registry


def _deployment(name: str, mock: MockLLMServer, api_key: str) -> DeploymentSettings:
    return DeploymentSettings(
        name=name,
        model="mock-gpt",
        serves=["*"],
        base_url=mock.base_url,
        api_key=api_key,
        client=client_for(mock),
    )


async def _surfaces(
    client: httpx2.AsyncClient, bodies: list[str], logs: io.StringIO, spans: InMemorySpanExporter
) -> str:
    """Everything an operator or a caller can see: bodies, logs, ``/metrics``, spans."""
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200  # the token was resolved from Vault
    exported = [span.to_json() for span in spans.get_finished_spans()]
    assert exported  # the spans were captured
    return "\n".join([*bodies, logs.getvalue(), metrics.text, *exported])


async def test_planted_secrets_are_used_rotated_and_never_shown(
    mock_llm: MockLLMServer,
    vault: tuple[str, VaultState],
    aws: Any,
    tmp_path: Path,
    monkeypatch: Any,
    log_stream: io.StringIO,
) -> None:
    vault_url, vault_state = vault
    vault_state.secrets["llm/primary"] = {"api_key": KEYS["vault"]}
    vault_state.secrets["ops/metrics"] = {"token": METRICS_TOKEN}
    aws.create_secret(Name="llm/secondary", SecretString=json.dumps({"api_key": KEYS["aws"]}))
    monkeypatch.setenv("PLANTED_LLM_KEY", KEYS["env"])
    key_file = tmp_path / "llm-key"
    key_file.write_text(KEYS["file"] + "\n")
    settings = mock_settings(
        mock_llm,
        deployments=[
            _deployment("env", mock_llm, "env:PLANTED_LLM_KEY"),
            _deployment("file", mock_llm, f"file:{key_file}"),
            _deployment("vault", mock_llm, "vault:llm/primary#api_key"),
            _deployment("aws", mock_llm, "aws:llm/secondary#api_key"),
        ],
        vault_url=vault_url,
        vault_token=VAULT_TOKEN,
        metrics_token="vault:ops/metrics#token",
        metrics_public=True,
        aws_region="eu-west-1",
        access_log=True,
        log_level="DEBUG",
    )
    configure_logging(level="DEBUG", fmt="json", sensitive=False, stream=log_stream)
    container = build_container(settings, registry=_registry())
    spans = InMemorySpanExporter()
    container.tracing.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(settings, container=container)
    bodies: list[str] = []
    async with serving(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as client:

        async def run(text: str) -> httpx2.Response:
            response = await client.post("/v1/agents/echo/runs", json={"input": text})
            bodies.append(response.text)
            return response

        for _ in KEYS:  # weighted round-robin: one call per deployment
            assert (await run("hello")).status_code == 200
        used = mock_llm.stats()["per_key"]
        assert set(used) == {key_fingerprint(key) for key in KEYS.values()}

        key_file.write_text(ROTATED)
        await app.state.container.secrets.refresh()
        mock_llm.reset()
        for _ in KEYS:
            assert (await run("hello again")).status_code == 200
        used = mock_llm.stats()["per_key"]
        assert key_fingerprint(ROTATED) in used and key_fingerprint(KEYS["file"]) not in used

        mock_llm.queue_faults(*["500"] * 4 * settings.retry_max_attempts)
        failed = await run("this one fails")
        assert failed.status_code >= 500 and failed.json()["code"] == "UPSTREAM_UNAVAILABLE"
        seen = await _surfaces(client, bodies, log_stream, spans)

    assert "changed; using the new value" in seen  # the logs were captured
    for secret in [*KEYS.values(), ROTATED, VAULT_TOKEN, METRICS_TOKEN]:
        assert secret not in seen
