import pytest
from agents import Agent

from agenthost.container import build_container, startup_warnings
from agenthost.models.budget import BudgetModel
from agenthost.models.demo import DemoModel
from agenthost.models.retry import RetryingModel
from agenthost.registry import AgentRegistry
from agenthost.settings import ConfigError, DeploymentSettings, Settings


def registry_of(*agents: Agent) -> AgentRegistry:  # type: ignore[type-arg]
    registry = AgentRegistry()
    for agent in agents:
        registry.register(agent)
    return registry


def deployment(name: str, serves: list[str]) -> DeploymentSettings:
    return DeploymentSettings(name=name, model="m", serves=serves, base_url="http://127.0.0.1:9/v1")


async def test_unserved_model_names_stop_start_up_naming_them() -> None:
    specialist = Agent(name="specialist", model="model-b")
    front = Agent(name="front", model="model-a", handoffs=[specialist])
    settings = Settings(deployments=[deployment("d1", ["model-a"])])
    with pytest.raises(ConfigError, match="model-b"):
        build_container(settings, registry=registry_of(front))


async def test_demo_model_without_key_or_deployments() -> None:
    container = build_container(Settings(), registry=registry_of(Agent(name="a")))
    assert isinstance(container.provider.get_model("anything"), DemoModel)
    await container.aclose()


async def test_models_share_their_deployments_breaker_and_are_cached() -> None:
    settings = Settings(deployments=[deployment("d1", ["a", "b"]), deployment("any", ["*"])])
    container = build_container(settings, registry=registry_of(Agent(name="x", model="a")))
    provider = container.provider
    model_a, model_b, other = (
        provider.get_model("a"),
        provider.get_model("b"),
        provider.get_model("z"),
    )
    assert isinstance(model_a, BudgetModel) and isinstance(model_a.inner, RetryingModel)
    assert provider.get_model("a") is model_a
    router_a, router_b = model_a.inner.inner, model_b.inner.inner  # type: ignore[attr-defined]
    assert router_a.deployments[0].model.breaker is router_b.deployments[0].model.breaker
    assert other.inner.inner.deployments[0].name == "any"  # type: ignore[attr-defined]
    await container.aclose()


def test_startup_warnings_name_what_the_operator_must_know() -> None:
    quiet = Settings(deployments=[deployment("d1", ["*"])], dev_mode=False)
    assert startup_warnings(quiet) == []
    loud = Settings(workers=2, dev_mode=True)
    warnings = " | ".join(startup_warnings(loud))
    assert "offline demo model" in warnings
    assert "2 workers without redis_url" in warnings
    assert "DEV MODE" in warnings
    shared = Settings(workers=2, dev_mode=False, redis_url="redis://127.0.0.1:6379/0")
    assert not any("redis_url" in w for w in startup_warnings(shared))


async def test_secrets_read_at_startup_reach_the_background_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "signing").write_text("whsec-planted\n")
    settings = Settings(background_runs=True, webhook_signing_key=f"file:{tmp_path / 'signing'}")
    container = build_container(settings, registry=registry_of(Agent(name="a")))
    try:
        assert container.background is not None
        assert container.background._webhooks._key == b"whsec-planted"
    finally:
        await container.aclose()
