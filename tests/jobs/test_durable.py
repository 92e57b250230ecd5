"""The durable copies of agents: every function tool wrapped, handoff cycles included."""

from __future__ import annotations

from agents import Agent, FunctionTool, function_tool

from agenthost.jobs.durable import durable_agent


@function_tool
def lookup(order_id: str) -> str:
    """Look up an order."""
    return order_id


def test_handoff_cycles_are_copied_once_each() -> None:
    triage = Agent(name="triage", tools=[lookup])
    billing = Agent(name="billing", tools=[lookup], handoffs=[triage])
    triage.handoffs = [billing]
    copy = durable_agent(triage, {})
    (billing_copy,) = copy.handoffs
    assert isinstance(billing_copy, Agent) and billing_copy.handoffs == [copy]
    for agent in (copy, billing_copy):
        (tool,) = agent.tools
        assert isinstance(tool, FunctionTool)
        assert tool.on_invoke_tool is not lookup.on_invoke_tool
    assert triage.tools == [lookup] and triage.handoffs == [billing]  # originals untouched
