"""A tenant's per-agent overrides change how its runs execute, and only its runs."""

from __future__ import annotations

from typing import Any

from agenthost.settings import DeploymentSettings
from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import tenant_with_key
from tests.conftest import client_for

RUN = "/v1/agents/{}/runs"


def deployments(mock: MockLLMServer) -> list[DeploymentSettings]:
    """The mock serves every model name except ``dead-model``, whose endpoint is closed."""
    return [
        DeploymentSettings(
            name="mock",
            model="mock-gpt",
            serves=["*"],
            base_url=mock.base_url,
            client=client_for(mock),
        ),
        DeploymentSettings(
            name="dead",
            model="dead-model",
            base_url="http://127.0.0.1:9/v1",
            client=client_for(mock),
        ),
    ]


async def test_a_model_override_sends_that_tenants_runs_to_another_deployment(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    registry = build_registry(ToolLog())
    settings = {"dev_mode": False, "deployments": deployments(mock_llm), "retry_max_attempts": 1}
    async with agenthost_client(registry, **settings) as (client, app):
        plain = await tenant_with_key(app, "plain")
        moved = await tenant_with_key(
            app, "moved", agent_overrides={"echo": {"model": "dead-model"}}
        )
        before = mock_llm.stats()["total_requests"]
        refused = await client.post(RUN.format("echo"), json={"input": "hi"}, headers=moved.headers)
        untouched = await client.post(
            RUN.format("orders"), json={"input": "hi"}, headers=moved.headers
        )
        served = await client.post(RUN.format("echo"), json={"input": "hi"}, headers=plain.headers)
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "UPSTREAM_UNAVAILABLE"
    assert untouched.status_code == 200  # other agents keep their model
    assert served.status_code == 200  # other tenants keep the agent's model
    assert mock_llm.stats()["total_requests"] == before + 2


async def test_timeout_and_turn_overrides_apply_to_that_tenant_only(
    agenthost_client: Any, mock_llm: MockLLMServer
) -> None:
    log = ToolLog()
    registry = build_registry(log, slow_timeout_s=30)
    overrides = {"reports": {"timeout_s": 0.3}, "orders": {"max_turns": 1}}
    async with agenthost_client(registry, dev_mode=False) as (client, app):
        hurried = await tenant_with_key(app, "hurried", agent_overrides=overrides)
        timed_out = await client.post(
            RUN.format("reports"), json={"input": "a slow report"}, headers=hurried.headers
        )
        one_turn = await client.post(
            RUN.format("orders"), json={"input": "Where is order 42?"}, headers=hurried.headers
        )
        listed = (await client.get("/v1/agents", headers=hurried.headers)).json()
    assert timed_out.status_code == 504 and timed_out.json()["code"] == "RUN_TIMEOUT"
    assert log.slow_cancelled.is_set()
    assert one_turn.status_code == 422 and one_turn.json()["code"] == "MAX_TURNS_EXCEEDED"
    agents = {a["name"]: a for a in listed["agents"]}
    assert agents["reports"]["timeout_s"] == 0.3 and agents["orders"]["max_turns"] == 1
    assert agents["echo"]["max_turns"] == 10 and agents["echo"]["tokens_per_run"] is None
