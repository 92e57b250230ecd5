"""Stage 1 — admission: may this run start now? Refusals happen before any work is done."""

from __future__ import annotations

from agenthost.errors import NotImplementedFeature, ShuttingDown
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.types import RunRequest, RunState
from agenthost.registry import AgentRegistry
from agenthost.security.input import clean_input
from agenthost.settings import Settings


class Admission:
    def __init__(self, settings: Settings, registry: AgentRegistry, lifecycle: Lifecycle) -> None:
        self._settings = settings
        self._registry = registry
        self._lifecycle = lifecycle

    def admit(self, request: RunRequest) -> RunState:
        """Validate ``request``: may it run, here, now? Refusals are raised, nothing is held."""
        if not self._lifecycle.accepting:
            raise ShuttingDown(retry_after=1.0)
        entry = self._registry.get(request.agent)
        if request.background:
            raise NotImplementedFeature("background runs are not available in this version")
        if request.session_id is not None:
            raise NotImplementedFeature(
                "conversation sessions are not available in this version of agenthost"
            )
        policy = entry.policy
        state = RunState(
            request=request,
            entry=entry,
            input=clean_input(request.input, max_chars=self._settings.max_input_chars),
            timeout_s=policy.timeout_s or self._settings.run_timeout_s,
            warning_ratio=policy.warning_ratio or self._settings.run_warning_ratio,
            max_turns=policy.max_turns or self._settings.max_turns,
        )
        return state
