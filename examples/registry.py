"""The example agents served by ``make run`` (``AGENTHOST_AGENTS=examples.registry:registry``)."""

from __future__ import annotations

from agenthost import AgentRegistry
from examples.extraction import ticket_agent
from examples.refunds import refunds_agent
from examples.support import triage_agent
from examples.weather import weather_agent

registry = AgentRegistry()
registry.register(
    weather_agent, timeout_s=30, description="Weather forecasts (function tool)", cacheable=True
)
registry.register(
    triage_agent,
    timeout_s=60,
    max_turns=6,
    description="Front desk: hands off to billing or weather; refuses card numbers (guardrail)",
)
registry.register(
    ticket_agent, timeout_s=30, description="Turns a message into a ticket (structured output)"
)
registry.register(
    refunds_agent,
    timeout_s=30,
    approval_timeout_s=3600,
    description="Refunds orders; over 100 EUR waits for a human's approval (tool approval)",
)
