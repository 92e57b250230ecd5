from pathlib import Path

import pytest
from agents import Agent, function_tool, handoff

from agenthost.errors import AgentNotFound
from agenthost.registry import (
    AgentRegistry,
    RegistryError,
    agent_version,
    handoff_names,
    load_registry,
    needs_approval,
)
from agenthost.security.input import InputPolicy


@function_tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_register_and_get_with_policy() -> None:
    registry = AgentRegistry()
    agent = Agent(name="calc", instructions="add", tools=[add])
    assert (
        registry.register(
            agent, timeout_s=5, cacheable=True, description="adds", approval_timeout_s=60
        )
        is agent
    )
    entry = registry.get("calc")
    assert entry.agent is agent and entry.policy.timeout_s == 5 and entry.policy.cacheable
    assert entry.policy.approval_timeout_s == 60
    assert "calc" in registry and len(registry) == 1
    with pytest.raises(AgentNotFound):
        registry.get("nope")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "has space"},
        {"timeout_s": 0},
        {"warning_ratio": 1.5},
        {"max_turns": 0},
        {"approval_timeout_s": -1},
    ],
)
def test_invalid_registrations_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(RegistryError):
        AgentRegistry().register(Agent(name="a"), **kwargs)  # type: ignore[arg-type]


def test_duplicate_names_are_refused() -> None:
    registry = AgentRegistry()
    registry.register(Agent(name="a"))
    with pytest.raises(RegistryError, match="twice"):
        registry.register(Agent(name="b"), name="a")


def test_version_changes_with_the_definition() -> None:
    base = Agent(name="a", instructions="one")
    assert agent_version(base) == agent_version(Agent(name="a", instructions="one"))
    assert agent_version(base) != agent_version(Agent(name="a", instructions="two"))
    assert agent_version(base) != agent_version(Agent(name="a", instructions="one", tools=[add]))


def test_load_registry_from_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_agents.py").write_text(
        "from agents import Agent\nfrom agenthost import AgentRegistry\n"
        "registry = AgentRegistry()\nregistry.register(Agent(name='x'))\n"
        "def factory():\n    return registry\nnot_a_registry = 3\n"
    )
    monkeypatch.chdir(tmp_path)
    assert "x" in load_registry("my_agents:registry")
    assert "x" in load_registry("my_agents:factory")
    with pytest.raises(RegistryError, match="not an AgentRegistry"):
        load_registry("my_agents:not_a_registry")
    with pytest.raises(RegistryError, match="cannot import"):
        load_registry("missing_module_xyz:registry")
    with pytest.raises(RegistryError, match="module:attribute"):
        load_registry("no-colon")


def test_input_policies_are_checked_when_registering() -> None:
    registry = AgentRegistry()
    with pytest.raises(RegistryError, match="content_types"):
        registry.register(
            Agent(name="a"), input_policy=InputPolicy(content_types=frozenset({"input_audio"}))
        )
    registry.register(Agent(name="b"), input_policy=InputPolicy(strip_html=True))
    assert registry.get("b").policy.input.strip_html
    assert registry.get("b").policy.input.normalization == "NFC"


def test_approvals_and_handoffs_are_read_from_the_agent_graph() -> None:
    @function_tool(needs_approval=True)
    def refund(order_id: str) -> str:
        """Refund an order."""
        return order_id

    @function_tool(needs_approval=lambda *_: False)
    def maybe(order_id: str) -> str:
        """Decided per call."""
        return order_id

    billing = Agent(name="billing", tools=[refund])
    desk = Agent(name="desk", handoffs=[billing, handoff(Agent(name="weather"))])
    billing.handoffs.append(desk)  # a cycle ends
    assert handoff_names(desk) == ["billing", "weather"]
    assert needs_approval(desk) and needs_approval(billing)
    assert needs_approval(Agent(name="ask", tools=[maybe]))  # a function may decide: it may
    assert not needs_approval(Agent(name="calc", tools=[add]))
