"""Agents of the background-run benchmark: one instant, one with a 5 s tool."""

import asyncio

from agents import Agent, function_tool

from agenthost import AgentRegistry

SLOW_TOOL_S = 5.0


@function_tool
async def slow_lookup(order_id: str) -> str:
    """Look up the shipping status of an order (slowly)."""
    await asyncio.sleep(SLOW_TOOL_S)
    return f"order {order_id} shipped"


registry = AgentRegistry()
registry.register(Agent(name="instant", instructions="Reply."), timeout_s=120)
registry.register(
    Agent(name="orders", instructions="Answer order questions.", tools=[slow_lookup]),
    timeout_s=120,
)
