"""Building :class:`RunState` objects for the ledger without running an agent."""

from __future__ import annotations

from typing import Any

from agents import Agent
from agents.usage import Usage

from agenthost.execution.types import RunRequest, RunState
from agenthost.registry import AgentRegistry
from agenthost.tenancy.principal import Principal, Scope, Tenant

REGISTRY = AgentRegistry()
REGISTRY.register(Agent(name="a"))
REGISTRY.register(Agent(name="b"))


def principal(tenant_id: str, key_id: str | None = None, **limits: Any) -> Principal:
    return Principal(Tenant(tenant_id, **limits), key_id, frozenset(Scope))


def run_state(who: Principal, agent: str = "a", **request: Any) -> RunState:
    entry = REGISTRY.get(agent)
    return RunState(
        request=RunRequest(agent=agent, input="hello", principal=who, **request),
        entry=entry,
        agent=entry.agent,
        input="hello",
        timeout_s=30.0,
        warning_ratio=0.8,
        max_turns=10,
        token_limit=None,
    )


def finish(
    state: RunState,
    status: str,
    *,
    requests: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
    error_code: str | None = None,
    output: Any = None,
) -> RunState:
    """Mark ``state`` as ended the way settlement would before closing it."""
    state.status = status  # type: ignore[assignment]
    state.model_called = requests > 0
    state.sdk_usage = Usage(
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )
    state.error_code = error_code
    state.error_message = None if error_code is None else f"{error_code} happened"
    state.output = output
    state.last_agent = state.entry.name
    return state
