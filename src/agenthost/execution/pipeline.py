"""The one execution pipeline. Every run — HTTP, SSE, CLI — goes through here.

Stage order (DESIGN.md): admission (with the quota reservation) → result cache → deadline →
runner → settlement. Background runs are admitted when queued and executed later by
``jobs/``, through :meth:`Pipeline.execute`. Between admission and entering settlement there
is no ``await``, so no cancellation can land in between and leave a reservation unsettled.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from agents.result import RunResult, RunResultStreaming
from opentelemetry.trace import Span

from agenthost.execution import deadline, session_gate
from agenthost.execution.admission import Admission
from agenthost.execution.approvals import pause
from agenthost.execution.cache import ResultCache
from agenthost.execution.events import translate
from agenthost.execution.runner import AgentRunner, agent_name, jsonable_output
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunEvent, RunOutcome, RunRequest, RunState
from agenthost.telemetry.runs import RunTelemetry


class Pipeline:
    def __init__(
        self,
        admission: Admission,
        cache: ResultCache,
        runner: AgentRunner,
        settlement: Settlement,
        telemetry: RunTelemetry,
    ) -> None:
        self._admission = admission
        self._cache = cache
        self._runner = runner
        self._settlement = settlement
        self._telemetry = telemetry

    async def run(self, request: RunRequest) -> RunOutcome:
        """Run to completion. Raises AgentHostError (already classified) on failure."""
        span = self._telemetry.start(request, "sync")
        with self._telemetry.current(span, request, end=True):
            state = await self._admission.admit(request, "sync")
            return await self._execute(state, span, self._runner)

    async def run_continued(self, state: RunState) -> RunOutcome:
        """Continue a run whose approvals were all decided (admitted by
        :meth:`Admission.admit_decided`), to completion or to its next stop."""
        span = self._telemetry.start(state.request, "sync")
        with self._telemetry.current(span, state.request, end=True):
            return await self._execute(state, span, self._runner)

    def stream_continued(self, state: RunState) -> RunStream:
        """Like :meth:`run_continued`, streamed (see :meth:`open_stream`)."""
        state.span = self._telemetry.start(state.request, "stream")
        return RunStream(self._runner, self._settlement, state, self._telemetry)

    async def execute(self, state: RunState, runner: AgentRunner) -> RunOutcome:
        """Deadline → runner → settlement for a background run resumed by the process
        executing it (admitted when it was queued), with its durable runner."""
        span = self._telemetry.start(state.request, "background")
        with self._telemetry.current(span, state.request, end=True):
            return await self._execute(state, span, runner)

    async def _execute(self, state: RunState, span: Span, runner: AgentRunner) -> RunOutcome:
        state.span = span
        async with self._settlement.settling(state):
            return await self._cache.through(state, lambda: _run(state, runner))

    async def open_stream(self, request: RunRequest) -> RunStream:
        """Admit now (so refusals surface before streaming starts); stream with ``events()``.

        The caller must iterate ``events()`` or, if it never will, call ``discard()``.
        """
        span = self._telemetry.start(request, "stream")
        try:
            with self._telemetry.current(span, request, end=False):
                state = await self._admission.admit(request, "stream")
        except BaseException:
            span.end()
            raise
        state.span = span
        return RunStream(self._runner, self._settlement, state, self._telemetry)


async def _run(state: RunState, runner: AgentRunner) -> RunOutcome:
    async with deadline.enforce(state):
        result = await runner.run(state)
    await session_gate.commit(state)
    return _finish(state, result, runner)


def _finish(
    state: RunState, result: RunResult | RunResultStreaming, runner: AgentRunner
) -> RunOutcome:
    """The outcome of a finished run (or one stopped at calls that need approval), also
    kept on the state for its record."""
    state.last_agent = agent_name(result.last_agent)
    if result.interruptions:
        pause(state, result, runner.max_state_bytes)
    else:
        state.output = jsonable_output(result.final_output)
    return state.outcome()


class RunStream:
    """One admitted streamed run. Iterate :meth:`events` exactly once."""

    def __init__(
        self,
        runner: AgentRunner,
        settlement: Settlement,
        state: RunState,
        telemetry: RunTelemetry,
    ) -> None:
        self._runner = runner
        self._settlement = settlement
        self.state = state
        self._telemetry = telemetry
        self._started = False

    @property
    def run_id(self) -> str:
        return self.state.request.run_id

    async def events(self) -> AsyncGenerator[RunEvent, None]:
        """Events in order, ending with ``final``; a failure raises AgentHostError instead."""
        state = self.state
        self._started = True
        result: RunResultStreaming | None = None

        def cancel_run() -> None:
            if result is not None:
                result.cancel()

        # The run's span is made current only around the start of the run (whose task copies
        # it): a generator may be resumed from different tasks, so nothing spans a yield.
        try:
            async with self._settlement.settling(state):
                try:
                    yield RunEvent(
                        "run_started", {"run_id": self.run_id, "agent": state.entry.name}
                    )
                    with deadline.watch(state, on_expire=cancel_run) as watch:
                        started = self._telemetry.current(state.span, state.request, end=False)
                        with started:
                            result = await self._runner.run_streamed(state)
                        async for event in result.stream_events():
                            public = translate(event)
                            if public is not None:
                                yield public
                        watch.check()
                    await session_gate.commit(state)
                    outcome = _finish(state, result, self._runner)
                    if outcome.status == "awaiting_approval":
                        yield RunEvent("approval_required", approval_data(outcome))
                    yield RunEvent("final", final_data(outcome))
                finally:  # also when the client went away: stop the run with the stream
                    if result is not None and not result.is_complete:
                        result.cancel()
        finally:
            state.span.end()

    async def discard(self) -> None:
        """Settle the run as cancelled if ``events()`` was never started."""
        if not self._started:
            self._started = True
            try:
                await self._settlement.abandon(self.state)
            finally:
                self.state.span.end()


def final_data(outcome: RunOutcome) -> dict[str, object]:
    """The data of a run's ``final`` event."""
    return {
        "run_id": outcome.run_id,
        "agent": outcome.agent,
        "status": outcome.status,
        "last_agent": outcome.last_agent,
        "output": outcome.output,
        "usage": outcome.usage.as_dict(),
        "duration_ms": outcome.duration_ms,
    }


def approval_data(outcome: RunOutcome) -> dict[str, object]:
    """The data of an ``approval_required`` event: the calls waiting for a decision."""
    return {
        "run_id": outcome.run_id,
        "pending_approvals": [call.as_dict() for call in outcome.pending],
    }
