"""An agent whose refunds over 100 need an approval, counting the refunds it really made."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, function_tool
from examples.refunds import over_limit

from agenthost.registry import AgentRegistry


@dataclass
class Refunds:
    made: list[int] = field(default_factory=list)


def refund_request(*amounts: int) -> str:
    """User text asking the mock LLM for one refund call per amount (in one response)."""
    markers = " ".join(
        f"[[tool:refund {json.dumps({'order_id': f'A{i}', 'amount': amount})}]]"
        for i, amount in enumerate(amounts)
    )
    return f"Please refund {markers}"


def build_registry(refunds: Refunds, **policy: Any) -> AgentRegistry:
    @function_tool(needs_approval=over_limit)
    def refund(order_id: str, amount: int) -> str:
        """Refund an amount on an order."""
        refunds.made.append(amount)
        return f"refunded {amount} on {order_id}"

    registry = AgentRegistry()
    registry.register(
        Agent(name="refunds", instructions="Refund orders.", tools=[refund]), **policy
    )
    return registry
