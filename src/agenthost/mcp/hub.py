"""The MCP servers of a process's agents: each distinct server object connected once.

Built with the container: every agent of the registry (and every agent reachable by handoff)
gets, in its ``mcp_servers``, the :class:`ManagedMCPServer` of each server object it named, so
agents sharing a server object share its connection. The container starts them (start-up waits
for each one's first connection attempt), ``/ready`` reads :meth:`MCPServers.checks`, and the
container closes them after the drain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from agents.mcp import MCPServer

from agenthost.mcp.managed import ManagedMCPServer, State
from agenthost.registry import AgentRegistry
from agenthost.settings import ConfigError, Settings
from agenthost.telemetry.metrics import Metrics


class MCPServers:
    """One :class:`ManagedMCPServer` per distinct server object of the registry's agents.

    Building it rewires the agents (their ``mcp_servers`` lists are replaced), so the last
    container built from a registry owns its agents' connections.
    """

    def __init__(self, registry: AgentRegistry, settings: Settings, metrics: Metrics) -> None:
        self._servers: dict[int, ManagedMCPServer] = {}
        labels: dict[str, MCPServer] = {}
        for agent in registry.reachable_agents():
            managed: list[MCPServer] = []
            for server in agent.mcp_servers:
                inner = server.inner if isinstance(server, ManagedMCPServer) else server
                entry = self._servers.get(id(inner))
                if entry is None:
                    entry = ManagedMCPServer(
                        inner,
                        required=registry.mcp_policy(inner).required,
                        settings=settings,
                        metrics=metrics,
                    )
                    if labels.setdefault(entry.label, inner) is not inner:
                        raise ConfigError(
                            f"two MCP servers are named {entry.label!r}: give each its own "
                            "name= (names label metrics and /ready)"
                        )
                    self._servers[id(inner)] = entry
                managed.append(entry)
            if managed:
                agent.mcp_servers = managed

    def __iter__(self) -> Iterator[ManagedMCPServer]:
        return iter(self._servers.values())

    def __len__(self) -> int:
        return len(self._servers)

    async def start(self) -> None:
        """Connect every server; return once each has tried once (a server that is down keeps
        being retried in the background, and ``/ready`` says so)."""
        await asyncio.gather(*(server.start() for server in self))

    async def aclose(self) -> None:
        await asyncio.gather(*(server.aclose() for server in self))

    def checks(self) -> tuple[bool, dict[str, str]]:
        """Whether every required server is up, and the state of each (``mcp:<name>``)."""
        ok = True
        checks: dict[str, str] = {}
        for server in self:
            if server.state is State.UP:
                checks[f"mcp:{server.label}"] = "ok"
                continue
            if server.required:
                ok = False
                checks[f"mcp:{server.label}"] = f"{server.state} (required: runs using it fail)"
            else:
                checks[f"mcp:{server.label}"] = f"{server.state} (optional: its tools are left out)"
        return ok, checks
