"""The one execution pipeline. Every run — HTTP, SSE, CLI — goes through here.

Stage order (DESIGN.md): admission → deadline → runner → settlement. Later stages (quota
reservation, cache) slot in here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

from agents.result import RunResultBase, RunResultStreaming

from agenthost.classify import classify
from agenthost.errors import AgentHostError, ErrorCode
from agenthost.execution import deadline
from agenthost.execution.admission import Admission
from agenthost.execution.events import translate
from agenthost.execution.runner import AgentRunner, agent_name, jsonable_output
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunEvent, RunOutcome, RunRequest, RunState, RunUsage

logger = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, admission: Admission, runner: AgentRunner, settlement: Settlement) -> None:
        self._admission = admission
        self._runner = runner
        self._settlement = settlement

    async def run(self, request: RunRequest) -> RunOutcome:
        """Run to completion. Raises AgentHostError (already classified) on failure."""
        state = self._admission.admit(request)
        error: BaseException | None = None
        try:
            async with deadline.enforce(state):
                result = await self._runner.run(state)
            return _outcome(state, result)
        except Exception as exc:
            error = exc
            domain = _domain(exc, state)
            if domain is exc:
                raise
            raise domain from exc
        except BaseException as exc:  # cancelled: settle, then let it propagate
            error = exc
            raise
        finally:
            self._settlement.settle(state, error)

    def open_stream(self, request: RunRequest) -> RunStream:
        """Admit now (so refusals surface before streaming starts); stream with ``events()``."""
        return RunStream(self._runner, self._settlement, self._admission.admit(request))


def _outcome(state: RunState, result: RunResultBase) -> RunOutcome:
    state.usage = RunUsage.from_sdk(result.context_wrapper.usage)
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

    async def events(self) -> AsyncIterator[RunEvent]:
        """Events in order, ending with ``final``; a failure raises AgentHostError instead."""
        state = self.state
        error: BaseException | None = None
        result: RunResultStreaming | None = None

        def cancel_run() -> None:
            if result is not None:
                result.cancel()

        try:
            yield RunEvent(
                "run_started", {"run_id": state.request.run_id, "agent": state.entry.name}
            )
            with deadline.watch(state, on_expire=cancel_run) as watch:
                result = self._runner.run_streamed(state)
                async for event in result.stream_events():
                    public = translate(event)
                    if public is not None:
                        yield public
                watch.check(state)
            outcome = _outcome(state, result)
            yield RunEvent("final", _final_data(outcome))
        except Exception as exc:
            error = exc
            domain = _domain(exc, state)
            if domain is exc:
                raise
            raise domain from exc
        except BaseException as exc:  # client went away or shutdown: stop the run too
            error = exc
            raise
        finally:
            if result is not None and not result.is_complete:
                result.cancel()
            self._settlement.settle(state, error)


def _final_data(outcome: RunOutcome) -> dict[str, object]:
    return {
        "run_id": outcome.run_id,
        "agent": outcome.agent,
        "last_agent": outcome.last_agent,
        "output": outcome.output,
        "usage": dataclasses.asdict(outcome.usage),
        "duration_ms": outcome.duration_ms,
    }


def _domain(exc: Exception, state: RunState) -> AgentHostError:
    """The classified error; unexpected ones are logged with their stack (and never shown)."""
    error = classify(exc)
    if error.code is ErrorCode.INTERNAL and error is not exc:
        logger.error(
            "run failed unexpectedly",
            exc_info=exc,
            extra={"run_id": state.request.run_id, "agent": state.entry.name},
        )
    return error
