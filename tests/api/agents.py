"""Agents used by the API tests (the mock LLM's deterministic brain drives them)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from agents import Agent, function_tool
from pydantic import BaseModel

from agenthost.registry import AgentRegistry


@dataclass
class ToolLog:
    """What the tools saw, so tests can assert how often (and whether) they ran."""

    lookups: int = 0
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    slow_cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    after_lookup: list[object] = field(default_factory=list)


class Ticket(BaseModel):
    title: str
    priority: int


def build_registry(log: ToolLog, *, slow_timeout_s: float = 1.0) -> AgentRegistry:
    @function_tool
    def lookup_order(order_id: str) -> str:
        """Look up the shipping status of an order."""
        log.lookups += 1
        for hook in log.after_lookup:
            hook()  # type: ignore[operator]
        return f"order {order_id} shipped"

    @function_tool
    async def slow_report(topic: str) -> str:
        """Prepare a slow report about a topic."""
        log.slow_started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            log.slow_cancelled.set()
            raise
        return "never"

    registry = AgentRegistry()
    registry.register(Agent(name="echo", instructions="Repeat the user."), timeout_s=2)
    registry.register(
        Agent(name="orders", instructions="Answer order questions.", tools=[lookup_order])
    )
    registry.register(
        Agent(name="reports", instructions="Write reports.", tools=[slow_report]),
        timeout_s=slow_timeout_s,
    )
    registry.register(Agent(name="ticket", instructions="Make a ticket.", output_type=Ticket))
    return registry
