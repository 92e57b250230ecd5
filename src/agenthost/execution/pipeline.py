"""The one execution pipeline. Every run — HTTP, SSE, CLI — goes through here.

Stage order (DESIGN.md): admission → deadline → runner → settlement. Later stages (quota
reservation, cache) slot in here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator

from agents.result import RunResultBase, RunResultStreaming

from agenthost.execution import deadline
from agenthost.execution.admission import Admission
from agenthost.execution.events import translate
from agenthost.execution.runner import AgentRunner, agent_name, jsonable_output
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunEvent, RunOutcome, RunRequest, RunState


class Pipeline:
    def __init__(self, admission: Admission, runner: AgentRunner, settlement: Settlement) -> None:
        self._admission = admission
        self._runner = runner
        self._settlement = settlement

    async def run(self, request: RunRequest) -> RunOutcome:
        """Run to completion. Raises AgentHostError (already classified) on failure."""
        state = self._admission.admit(request)
        with self._settlement.settling(state):
            async with deadline.enforce(state):
                result = await self._runner.run(state)
            return _outcome(state, result)

    def open_stream(self, request: RunRequest) -> RunStream:
        """Admit now (so refusals surface before streaming starts); stream with ``events()``."""
        return RunStream(self._runner, self._settlement, self._admission.admit(request))


def _outcome(state: RunState, result: RunResultBase) -> RunOutcome:
    return RunOutcome(
        run_id=state.request.run_id,
        agent=state.entry.name,
        output=jsonable_output(result.final_output),
        usage=state.usage,
        duration_ms=round(state.elapsed_ms(), 1),
        last_agent=agent_name(result.last_agent),
    )


class RunStream:
    """One admitted streamed run. Iterate :meth:`events` exactly once."""

    def __init__(self, runner: AgentRunner, settlement: Settlement, state: RunState) -> None:
        self._runner = runner
        self._settlement = settlement
        self.state = state

    @property
    def run_id(self) -> str:
        return self.state.request.run_id

    async def events(self) -> AsyncGenerator[RunEvent, None]:
        """Events in order, ending with ``final``; a failure raises AgentHostError instead."""
        state = self.state
        result: RunResultStreaming | None = None

        def cancel_run() -> None:
            if result is not None:
                result.cancel()

        with self._settlement.settling(state):
            try:
                yield RunEvent("run_started", {"run_id": self.run_id, "agent": state.entry.name})
                with deadline.watch(state, on_expire=cancel_run) as watch:
                    result = self._runner.run_streamed(state)
                    async for event in result.stream_events():
                        public = translate(event)
                        if public is not None:
                            yield public
                    watch.check()
                yield RunEvent("final", _final_data(_outcome(state, result)))
            finally:  # also when the client went away: stop the run with the stream
                if result is not None and not result.is_complete:
                    result.cancel()


def _final_data(outcome: RunOutcome) -> dict[str, object]:
    return {
        "run_id": outcome.run_id,
        "agent": outcome.agent,
        "last_agent": outcome.last_agent,
        "output": outcome.output,
        "usage": dataclasses.asdict(outcome.usage),
        "duration_ms": outcome.duration_ms,
    }
