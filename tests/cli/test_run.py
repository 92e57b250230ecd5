"""``agenthost run``: one run through the pipeline, from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agenthost.cli.main import app
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.conftest import client_for


@pytest.fixture
def mock_env(mock_llm: MockLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = {
        "name": "mock",
        "model": "*",
        "serves": ["*"],
        "base_url": mock_llm.base_url,
        "client": client_for(mock_llm),
    }
    monkeypatch.setenv("AGENTHOST_DEPLOYMENTS", json.dumps([deployment]))


def test_run_prints_output_and_usage(mock_env: None) -> None:
    result = CliRunner().invoke(
        app, ["run", "echo", "hello there", "--agents", "tests.cli.serve_agents:registry"]
    )
    assert result.exit_code == 0, result.output
    assert "Mock reply: hello there" in result.stdout
    assert "total tokens" in result.stderr


def test_run_json_with_the_example_agents_on_the_demo_model() -> None:
    result = CliRunner().invoke(app, ["run", "weather", "Weather in Tokyo?", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["output"] == "Result: The weather in Tokyo today: clear, 19 °C."
    assert outcome["usage"]["requests"] == 2
    assert "offline demo model" in result.stderr


def test_guardrail_and_unknown_agent_fail_with_their_codes() -> None:
    tripped = CliRunner().invoke(app, ["run", "triage", "card 4111 1111 1111 1111"])
    assert tripped.exit_code == 1 and "GUARDRAIL_TRIPPED" in tripped.stderr
    unknown = CliRunner().invoke(app, ["run", "nobody", "hi"])
    assert unknown.exit_code == 1 and "AGENT_NOT_FOUND" in unknown.stderr


def test_configuration_errors_are_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTHOST_RUN_TIMEOUT_S", "-1")
    bad_setting = CliRunner().invoke(app, ["run", "weather", "hi"])
    assert bad_setting.exit_code == 2 and "AGENTHOST_RUN_TIMEOUT_S" in bad_setting.stderr
    monkeypatch.delenv("AGENTHOST_RUN_TIMEOUT_S")
    bad_target = CliRunner().invoke(app, ["run", "x", "hi", "--agents", "nowhere:registry"])
    assert bad_target.exit_code == 2 and "cannot import 'nowhere'" in bad_target.stderr
    assert "Traceback" not in bad_setting.output + bad_target.output
