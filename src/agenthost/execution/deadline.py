"""Stage 3 — deadline: warn at the threshold, and at the deadline really cancel the run.

Cancellation reaches the in-flight model call (its HTTP request is closed) and the tools the
run is awaiting. The deadline is also published to the model layer so that retry waits never
extend past it. The same mechanism lets shutdown stop a run early (``state.abort``), failing
it with the error it is given instead of RUN_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from agenthost.errors import AgentHostError, RunTimeout
from agenthost.execution.types import RunState
from agenthost.models.deadline import reset_deadline, set_deadline

logger = logging.getLogger(__name__)


class Verdict:
    """Why a run was stopped early: None while it has not been."""

    def __init__(self, state: RunState) -> None:
        self.error: AgentHostError | None = None
        self._state = state

    def timed_out(self) -> None:
        self.error = self.error or RunTimeout(
            f"the run exceeded its deadline of {self._state.timeout_s:g}s and was cancelled",
            details={"timeout_s": self._state.timeout_s},
        )

    def check(self) -> None:
        if self.error is not None:
            raise self.error


@contextmanager
def _published(state: RunState) -> Iterator[asyncio.AbstractEventLoop]:
    """Publish the deadline and schedule the warning; undo both on exit."""
    loop = asyncio.get_running_loop()
    token = set_deadline(loop.time() + state.timeout_s)
    warning = loop.call_later(state.timeout_s * state.warning_ratio, _warn, state)
    try:
        yield loop
    finally:
        warning.cancel()
        reset_deadline(token)
        state.abort = None


def _warn(state: RunState) -> None:
    logger.warning(
        "run approaching its deadline",
        extra={
            "run_id": state.request.run_id,
            "agent": state.entry.name,
            "elapsed_ms": round(state.elapsed_ms()),
            "timeout_s": state.timeout_s,
        },
    )


@asynccontextmanager
async def enforce(state: RunState) -> AsyncIterator[None]:
    """For runs awaited in the current task: cancel the task at the deadline → RUN_TIMEOUT."""
    verdict = Verdict(state)
    with _published(state) as loop:
        timeout = asyncio.timeout(state.timeout_s)

        def abort(error: AgentHostError) -> None:
            verdict.error = error
            timeout.reschedule(loop.time())

        state.abort = abort
        try:
            async with timeout:
                yield
        except TimeoutError:
            if not timeout.expired():
                raise
            verdict.timed_out()
            verdict.check()


@contextmanager
def watch(state: RunState, on_expire: Callable[[], None]) -> Iterator[Verdict]:
    """For runs executing in another task (streams): call ``on_expire`` at the deadline.

    The caller checks the verdict when the run's events end.
    """
    verdict = Verdict(state)

    def expire() -> None:
        verdict.timed_out()
        on_expire()

    def abort(error: AgentHostError) -> None:
        verdict.error = error
        on_expire()

    with _published(state) as loop:
        handle = loop.call_later(state.timeout_s, expire)
        state.abort = abort
        try:
            yield verdict
        finally:
            handle.cancel()
