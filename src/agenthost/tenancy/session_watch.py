"""The runs holding a session in this process, checked together for interrupts.

A run interrupted by a newer run of its session (``on_busy: interrupt``) may execute in any
process. Each process checks the leases of the runs it holds, all in one query every
``session_poll_s``, and stops the ones interrupted. The check runs only while this process
holds a session; it is never cancelled midway (a round in progress finishes its transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from agenthost.errors import DependencyUnavailable
from agenthost.store.database import Database
from agenthost.store.repositories import session_leases as leases

logger = logging.getLogger(__name__)


class InterruptWatch:
    def __init__(self, db: Database, poll_s: float) -> None:
        self._db = db
        self._poll_s = poll_s
        self._runs: dict[str, Callable[[], None]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, run_id: str, on_interrupt: Callable[[], None]) -> None:
        """Call ``on_interrupt`` (once) if ``run_id``'s lease is interrupted."""
        self._runs[run_id] = on_interrupt
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_watching())

    def forget(self, run_id: str) -> None:
        self._runs.pop(run_id, None)

    async def _keep_watching(self) -> None:
        while self._runs:
            await asyncio.sleep(self._poll_s)
            if not self._runs:
                return
            try:
                async with self._db.transaction(read_only=True) as tx:
                    interrupted = await leases.interrupted_among(tx, list(self._runs))
            except DependencyUnavailable as exc:
                logger.warning("could not check the session leases: %s", exc.message)
                continue
            except Exception:  # the watch must outlive any one failed round
                logger.exception("session lease check failed")
                continue
            for run_id in interrupted:
                on_interrupt = self._runs.pop(run_id, None)
                if on_interrupt is not None:
                    on_interrupt()
