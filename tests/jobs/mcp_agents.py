"""The agent of the MCP resume test: the counting MCP server over stdio, its calls recorded in
the file named by ``MCP_COUNTER_CALLS``."""

import os
from pathlib import Path

from agents import Agent

from agenthost import AgentRegistry
from tests.mcp.counter import stdio_server

registry = AgentRegistry()
registry.register(
    Agent(
        name="door",
        instructions="Count visitors.",
        mcp_servers=[stdio_server(Path(os.environ.get("MCP_COUNTER_CALLS", os.devnull)))],
    ),
    timeout_s=60,
)
