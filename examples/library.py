"""An MCP server's tools: the agent finds books through the catalogue server over stdio.

Serve it with ``AGENTHOST_AGENTS=examples.library:registry``. agenthost connects to the server
once when it starts (not per run), reconnects if it drops and shows it in ``/ready``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agents import Agent
from agents.mcp import MCPServerStdio

from agenthost import AgentRegistry

catalogue = MCPServerStdio(
    params={
        "command": sys.executable,
        "args": ["-m", "examples.library_server"],
        "cwd": str(Path(__file__).resolve().parents[1]),
    },
    name="catalogue",
    cache_tools_list=True,  # its tools never change: list them once per connection
)

library_agent = Agent(
    name="library",
    instructions="You help visitors find books. Always use the find_book tool.",
    mcp_servers=[catalogue],
)

registry = AgentRegistry()
registry.register(library_agent, timeout_s=30, description="Finds books (an MCP server's tool)")
