"""The agent registry: the agents a deployment serves, each with its run policy.

Users build one in their own module and point agenthost at it
(``AGENTHOST_AGENTS=pkg.mod:registry``)::

    registry = AgentRegistry()
    registry.register(support_agent, name="support", timeout_s=30, cacheable=True)
    registry.set_mcp_policy(docs_server, required=False)   # an MCP server that only degrades
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents import Agent
from agents.mcp import MCPServer
from agents.models.interface import Model

from agenthost.errors import AgentNotFound
from agenthost.security.input import InputPolicy

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RegistryError(Exception):
    """The registry target cannot be loaded or an agent cannot be registered."""


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    """How agenthost runs one agent. ``None`` means "the setting's default"."""

    timeout_s: float | None = None
    """Deadline of a run; the run is cancelled when it passes."""
    warning_ratio: float | None = None
    """Fraction of the deadline after which a warning is logged."""
    max_turns: int | None = None
    """Maximum agent turns (model calls) per run."""
    cacheable: bool = False
    """Sessionless results may be served from the result cache."""
    description: str = ""
    """Shown in ``GET /v1/agents``."""
    input: InputPolicy = field(default_factory=InputPolicy)
    """What the agent accepts as input: lengths, content types, normalisation, stripping."""
    approval_timeout_s: float | None = None
    """How long a run waits for decisions on its tool calls that need approval."""


@dataclass(frozen=True, slots=True)
class MCPPolicy:
    """How agenthost treats one MCP server (see :mod:`agenthost.mcp`)."""

    required: bool = True
    """While it is down the process is not ready and runs of agents using it fail
    (``MCP_SERVER_UNAVAILABLE``); if False its tools are only left out meanwhile."""


@dataclass(frozen=True, slots=True)
class RegisteredAgent:
    name: str
    agent: Agent[Any]
    policy: AgentPolicy
    version: str
    """Hash of the agent's definition; changes when instructions, tools or model change."""


class AgentRegistry:
    """Name → SDK ``Agent`` plus its :class:`AgentPolicy`."""

    def __init__(self) -> None:
        self._entries: dict[str, RegisteredAgent] = {}
        self._mcp_policies: dict[int, tuple[MCPServer, MCPPolicy]] = {}

    def register(
        self,
        agent: Agent[Any],
        *,
        name: str | None = None,
        timeout_s: float | None = None,
        warning_ratio: float | None = None,
        max_turns: int | None = None,
        cacheable: bool = False,
        description: str | None = None,
        input_policy: InputPolicy | None = None,
        approval_timeout_s: float | None = None,
    ) -> Agent[Any]:
        """Add ``agent`` under ``name`` (default: the agent's own name); returns the agent."""
        key = name or agent.name
        if not NAME_PATTERN.match(key):
            raise RegistryError(
                f"agent name {key!r} must match {NAME_PATTERN.pattern}; pass name=... to register()"
            )
        if key in self._entries:
            raise RegistryError(f"agent {key!r} is registered twice")
        if timeout_s is not None and timeout_s <= 0:
            raise RegistryError(f"agent {key!r}: timeout_s must be positive")
        if warning_ratio is not None and not 0 < warning_ratio < 1:
            raise RegistryError(f"agent {key!r}: warning_ratio must be between 0 and 1")
        if approval_timeout_s is not None and approval_timeout_s <= 0:
            raise RegistryError(f"agent {key!r}: approval_timeout_s must be positive")
        if max_turns is not None and max_turns < 1:
            raise RegistryError(f"agent {key!r}: max_turns must be at least 1")
        input_policy = input_policy or InputPolicy()
        try:
            input_policy.check(key)
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
        policy = AgentPolicy(
            timeout_s=timeout_s,
            warning_ratio=warning_ratio,
            max_turns=max_turns,
            cacheable=cacheable,
            description=description if description is not None else agent.handoff_description or "",
            input=input_policy,
            approval_timeout_s=approval_timeout_s,
        )
        self._entries[key] = RegisteredAgent(key, agent, policy, agent_version(agent))
        return agent

    def set_mcp_policy(self, server: MCPServer, *, required: bool = True) -> MCPServer:
        """Say how ``server`` (an object in some agent's ``mcp_servers``) is treated; servers
        without a policy are required. Returns the server."""
        self._mcp_policies[id(server)] = (server, MCPPolicy(required=required))
        return server

    def mcp_policy(self, server: MCPServer) -> MCPPolicy:
        entry = self._mcp_policies.get(id(server))
        return entry[1] if entry is not None and entry[0] is server else MCPPolicy()

    def reachable_agents(self) -> Iterator[Agent[Any]]:
        """Every registered agent and every agent reachable from one by handoff, once each."""
        seen: set[int] = set()
        stack: list[Agent[Any]] = [entry.agent for entry in self]
        while stack:
            agent = stack.pop()
            if id(agent) in seen:
                continue
            seen.add(id(agent))
            yield agent
            stack.extend(h for h in agent.handoffs if isinstance(h, Agent))

    def get(self, name: str) -> RegisteredAgent:
        try:
            return self._entries[name]
        except KeyError:
            raise AgentNotFound(f"Agent not found: {name}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[RegisteredAgent]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def agent_version(agent: Agent[Any], _seen: frozenset[int] = frozenset()) -> str:
    """A short stable hash of what determines an agent's behaviour (for cache keys)."""
    return hashlib.sha256(
        json.dumps(_definition(agent, _seen), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


def _definition(agent: Agent[Any], seen: frozenset[int]) -> dict[str, Any]:
    if id(agent) in seen:
        return {"name": agent.name}
    seen = seen | {id(agent)}
    model = agent.model
    definition: dict[str, Any] = {
        "name": agent.name,
        "instructions": agent.instructions if isinstance(agent.instructions, str) else "<fn>",
        "model": type(model).__qualname__ if isinstance(model, Model) else model,
        "model_settings": agent.model_settings.to_json_dict(),
        "tools": [[tool.name, getattr(tool, "params_json_schema", None)] for tool in agent.tools],
        "handoffs": [
            _definition(h, seen) if isinstance(h, Agent) else h.tool_name for h in agent.handoffs
        ],
        "output_type": repr(agent.output_type),
        "guardrails": [g.get_name() for g in agent.input_guardrails]
        + [g.get_name() for g in agent.output_guardrails],
    }
    if agent.mcp_servers:  # only then, so that the versions of other agents stay as they were
        definition["mcp_servers"] = [server.name for server in agent.mcp_servers]
    return definition


def handoff_names(agent: Agent[Any]) -> list[str]:
    """The agents ``agent`` may hand off to, by their SDK names."""
    return [h.name if isinstance(h, Agent) else h.agent_name for h in agent.handoffs]


def needs_approval(agent: Agent[Any], _seen: frozenset[int] = frozenset()) -> bool:
    """Whether a run of ``agent`` may stop for a human's approval: one of its function tools,
    or of the agents it hands off to, has ``needs_approval`` set (or a function deciding it)."""
    if id(agent) in _seen:
        return False
    seen = _seen | {id(agent)}
    if any(getattr(tool, "needs_approval", False) is not False for tool in agent.tools):
        return True
    return any(needs_approval(h, seen) for h in agent.handoffs if isinstance(h, Agent))


def load_registry(target: str) -> AgentRegistry:
    """Import ``module:attribute`` (the working directory is importable, as with uvicorn)."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise RegistryError(f"agents target {target!r} must look like 'package.module:attribute'")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(
            f"cannot import {module_name!r} for agents target {target!r}: {exc}. "
            "Set AGENTHOST_AGENTS (or --agents) to the module:attribute of your AgentRegistry."
        ) from exc
    registry = getattr(module, attribute, None)
    if callable(registry) and not isinstance(registry, AgentRegistry):
        registry = registry()
    if not isinstance(registry, AgentRegistry):
        raise RegistryError(
            f"{target!r} is {type(registry).__name__}, not an AgentRegistry "
            "(or a function returning one)"
        )
    if not registry:
        raise RegistryError(f"{target!r} has no agents registered")
    return registry
