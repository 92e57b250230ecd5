"""Stage 3 — deadline: warn at the threshold, and at the deadline really cancel the run.

Cancellation reaches the in-flight model call (its HTTP request is closed) and the tools the
run is awaiting. The deadline is also published to the model layer so that retry waits never
extend past it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from agenthost.errors import RunTimeout
from agenthost.execution.types import RunState
from agenthost.models.deadline import reset_deadline, set_deadline

logger = logging.getLogger(__name__)


def _timeout_error(state: RunState) -> RunTimeout:
    return RunTimeout(
        f"the run exceeded its deadline of {state.timeout_s:g}s and was cancelled",
        details={"timeout_s": state.timeout_s},
    )


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
    with _published(state):
        timeout = asyncio.timeout(state.timeout_s)
        try:
            async with timeout:
                yield
        except TimeoutError as exc:
            if timeout.expired():
                raise _timeout_error(state) from exc
            raise


class Watch:
    """For runs executing in another task (streams): call ``on_expire`` at the deadline."""

    def __init__(self) -> None:
        self.expired = False

    def check(self, state: RunState) -> None:
        if self.expired:
            raise _timeout_error(state)


@contextmanager
def watch(state: RunState, on_expire: Callable[[], None]) -> Iterator[Watch]:
    result = Watch()

    def expire() -> None:
        result.expired = True
        on_expire()

    with _published(state) as loop:
        handle = loop.call_later(state.timeout_s, expire)
        try:
            yield result
        finally:
            handle.cancel()
