"""The process's MCP servers: each distinct server object managed once, agents rewired."""

from __future__ import annotations

from pathlib import Path

import pytest
from agents import Agent

from agenthost import AgentRegistry
from agenthost.mcp.hub import MCPServers
from agenthost.mcp.managed import ManagedMCPServer
from agenthost.settings import ConfigError, Settings
from agenthost.telemetry.metrics import Metrics
from tests.mcp.counter import stdio_server


def test_a_server_shared_by_agents_is_managed_once(tmp_path: Path) -> None:
    shared = stdio_server(tmp_path / "a.jsonl")
    docs = stdio_server(tmp_path / "b.jsonl", name="docs")
    billing = Agent(name="billing", mcp_servers=[shared, docs])
    triage = Agent(name="triage", mcp_servers=[shared], handoffs=[billing])
    registry = AgentRegistry()
    registry.register(triage)
    registry.set_mcp_policy(docs, required=False)
    hub = MCPServers(registry, Settings(), Metrics())
    assert len(hub) == 2
    (first,) = triage.mcp_servers
    reached, optional = billing.mcp_servers  # reached by handoff only
    assert isinstance(first, ManagedMCPServer) and first is reached and first.inner is shared
    assert isinstance(optional, ManagedMCPServer) and optional.inner is docs
    assert (first.required, optional.required) == (True, False)
    again = MCPServers(registry, Settings(), Metrics())  # a second container: rewired again
    assert triage.mcp_servers[0] is not first and triage.mcp_servers[0].inner is shared  # type: ignore[attr-defined]
    assert len(again) == 2


def test_two_servers_with_one_name_are_refused(tmp_path: Path) -> None:
    registry = AgentRegistry()
    registry.register(
        Agent(
            name="door",
            mcp_servers=[stdio_server(tmp_path / "a.jsonl"), stdio_server(tmp_path / "b.jsonl")],
        )
    )
    with pytest.raises(ConfigError, match="two MCP servers are named 'counter'"):
        MCPServers(registry, Settings(), Metrics())
