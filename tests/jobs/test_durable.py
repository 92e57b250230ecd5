"""The durable copies of agents: every function tool wrapped, handoff cycles included."""

from __future__ import annotations

from agents import Agent, FunctionTool, function_tool
from agents.mcp import MCPServerStdio

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


def test_mcp_tools_of_a_durable_copy_are_wrapped_and_clones_keep_it() -> None:
    server = MCPServerStdio(params={"command": "true"}, name="counter")
    agent = Agent(name="door", mcp_servers=[server])
    copy = durable_agent(agent, {})
    assert type(copy).get_mcp_tools is not Agent.get_mcp_tools
    assert type(copy.clone()) is type(copy)  # the per-run copy wraps them too
    assert type(agent) is Agent and copy.mcp_servers == [server]
    assert type(durable_agent(Agent(name="plain"), {})) is Agent  # no MCP: left as it was
