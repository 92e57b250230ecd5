"""A tool that needs a human's approval: refunds over a limit wait for a decision.

``refund`` declares ``needs_approval`` with an async predicate: a refund of more than
``APPROVAL_OVER`` stops the run (``awaiting_approval``) until someone approves or rejects it
with ``POST /v1/runs/{run_id}/approvals``; smaller refunds go through at once.
"""

from __future__ import annotations

from typing import Any

from agents import Agent, RunContextWrapper, function_tool

APPROVAL_OVER = 100
"""Refunds above this amount need an approval."""


async def over_limit(
    context: RunContextWrapper[Any], arguments: dict[str, Any], call_id: str
) -> bool:
    """Whether this refund needs an approval (the SDK passes the call's parsed arguments)."""
    return float(arguments.get("amount", 0)) > APPROVAL_OVER


@function_tool(needs_approval=over_limit)
def refund(order_id: str, amount: int) -> str:
    """Refund an amount (in euros) on an order."""
    # A real tool would call the payment service; an example must run offline.
    return f"refunded {amount} EUR on order {order_id}"


refunds_agent = Agent(
    name="refunds",
    instructions=(
        "You handle refund requests. Use the refund tool with the order id and the amount. "
        "If a refund is rejected, explain the reason to the customer."
    ),
    tools=[refund],
    handoff_description="Refunds orders; refunds over 100 EUR wait for a human's approval.",
)
