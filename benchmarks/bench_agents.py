"""The agents the overhead benchmark serves: one model call each, on the mock LLM."""

from __future__ import annotations

from agents import Agent

from agenthost import AgentRegistry

INSTRUCTIONS = "Answer briefly."
MODEL = "bench-model"

registry = AgentRegistry()
registry.register(Agent(name="bench", instructions=INSTRUCTIONS, model=MODEL))
registry.register(
    Agent(name="bench_cached", instructions=INSTRUCTIONS, model=MODEL), cacheable=True
)
