"""Process lifecycle: ready, draining, and the runs in flight (for graceful shutdown)."""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


class Lifecycle:
    """Created with the app; the server's signal handling and the pipeline both consult it."""

    def __init__(self) -> None:
        self.ready = False
        self.draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def accepting(self) -> bool:
        return self.ready and not self.draining

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def run_started(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def run_finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()

    def begin_drain(self) -> None:
        if not self.draining:
            self.draining = True
            logger.info("draining: refusing new runs, %d in flight", self._in_flight)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no run is in flight; False if ``timeout_s`` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
