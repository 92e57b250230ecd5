"""Process lifecycle: ready, draining, and the runs in flight (for graceful shutdown)."""

from __future__ import annotations

import asyncio
import logging

from agenthost.errors import AgentHostError
from agenthost.execution.types import RunState

logger = logging.getLogger(__name__)


class Lifecycle:
    """Created with the container; the server's signal handling and the pipeline consult it."""

    def __init__(self) -> None:
        self.ready = False
        self.draining = False
        self._runs: set[RunState] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def accepting(self) -> bool:
        return self.ready and not self.draining

    @property
    def in_flight(self) -> int:
        return len(self._runs)

    def run_started(self, state: RunState) -> None:
        self._runs.add(state)
        self._idle.clear()

    def run_finished(self, state: RunState) -> None:
        self._runs.discard(state)
        if not self._runs:
            self._idle.set()

    def begin_drain(self) -> None:
        if not self.draining:
            self.draining = True
            logger.info("draining: refusing new runs, %d in flight", self.in_flight)

    def abort_all(self, error: AgentHostError) -> int:
        """Stop every run in flight, failing each with ``error`` (durable runs are suspended
        instead, to be resumed by another process); returns how many."""
        aborted = 0
        for state in list(self._runs):
            if state.suspend is not None:
                state.suspend()
                aborted += 1
            elif state.abort is not None:
                state.abort(error)
                aborted += 1
        return aborted

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no run is in flight; False if ``timeout_s`` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
