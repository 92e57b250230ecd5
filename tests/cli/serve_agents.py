"""A registry for the tests that start ``agenthost serve`` as a separate process."""

from agents import Agent

from agenthost import AgentRegistry

registry = AgentRegistry()
registry.register(Agent(name="echo", instructions="Repeat the user."), timeout_s=30)
