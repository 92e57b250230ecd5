"""A handoff and an input guardrail: triage routes to specialists, and refuses card numbers."""

from __future__ import annotations

import re
from typing import Any

from agents import (
    Agent,
    GuardrailFunctionOutput,
    RunContextWrapper,
    TResponseInputItem,
    function_tool,
    input_guardrail,
)

from examples.weather import weather_agent

_CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){13,19}\b")


# Not in parallel with the model: the check must finish before the input leaves for the model.
@input_guardrail(run_in_parallel=False)
async def no_card_numbers(
    ctx: RunContextWrapper[Any], agent: Agent[Any], user_input: str | list[TResponseInputItem]
) -> GuardrailFunctionOutput:
    """Trip when the user pastes something shaped like a payment card number."""
    text = user_input if isinstance(user_input, str) else str(user_input)
    found = bool(_CARD_NUMBER.search(text))
    return GuardrailFunctionOutput(output_info={"card_number": found}, tripwire_triggered=found)


@function_tool
def lookup_invoice(invoice_id: str) -> str:
    """Look up the status of an invoice by its id."""
    return f"Invoice {invoice_id} is paid in full."


billing_agent = Agent(
    name="billing",
    instructions="You answer billing questions. Use lookup_invoice for invoice questions.",
    tools=[lookup_invoice],
    handoff_description="Answers billing and invoice questions.",
)

triage_agent = Agent(
    name="triage",
    instructions=(
        "You are the front desk. Hand billing and invoice questions to the billing agent and "
        "weather questions to the weather agent; answer anything else yourself."
    ),
    handoffs=[billing_agent, weather_agent],
    input_guardrails=[no_card_numbers],
)
