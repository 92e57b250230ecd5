"""The background runs executing in this process: cancelled on request, suspended at
shutdown.

A cancel request reaches the run at once when it executes in the process that received it;
otherwise the process executing it notices the request in the database within
``cancel_poll_s``. Either way the run is aborted where it is — an in-flight model call or tool
is interrupted — and settled as cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from agenthost.errors import DependencyUnavailable, RunCancelled
from agenthost.execution.types import RunState
from agenthost.tenancy.ledger import CANCELLED_MESSAGE, Ledger

logger = logging.getLogger(__name__)


class ActiveRuns:
    def __init__(self, ledger: Ledger, poll_s: float) -> None:
        self._ledger = ledger
        self._poll_s = poll_s
        self._runs: dict[str, RunState] = {}

    @contextmanager
    def running(self, state: RunState) -> Iterator[None]:
        """Track ``state`` while its run executes in the current task."""
        task = asyncio.current_task()
        assert task is not None

        def suspend() -> None:
            state.suspended = True
            task.cancel()

        run_id = state.request.run_id
        state.suspend = suspend
        self._runs[run_id] = state
        try:
            yield
        finally:
            self._runs.pop(run_id, None)
            state.suspend = None

    def suspend_all(self) -> None:
        """Stop every run executing here without settling it (another process resumes it)."""
        for state in list(self._runs.values()):
            if state.suspend is not None:
                state.suspend()

    def cancel(self, run_id: str) -> bool:
        """Abort ``run_id`` if it executes here; whether it does."""
        state = self._runs.get(run_id)
        if state is None or state.abort is None:
            return False
        state.abort(RunCancelled(CANCELLED_MESSAGE))
        return True

    async def keep_watching(self) -> None:
        """Abort the runs executing here whose cancellation was asked for elsewhere."""
        while True:
            await asyncio.sleep(self._poll_s)
            if not self._runs:
                continue
            try:
                cancelled = await self._ledger.cancel_requested(list(self._runs))
            except DependencyUnavailable as exc:
                logger.warning("could not check for cancelled runs: %s", exc.message)
                continue
            except Exception:  # the watcher must outlive any one failed round
                logger.exception("cancel watcher round failed")
                continue
            for run_id in cancelled:
                self.cancel(run_id)
