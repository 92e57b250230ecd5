"""In-process rate limit counters: ``limits``' memory storage without its expiry thread.

``limits.storage.MemoryStorage`` drops expired entries from a ``threading.Timer`` that it starts
again 10 ms after every hit: under steady load a new thread about every 10 ms, whatever the
request rate, each walking every counter under its lock. (Its asyncio twin is worse: a task per
hit and, from it, a thread hop per counter.) Counting does not depend on that expiry — the
strategies compare entry times themselves — it only bounds memory. :class:`LocalStorage` does
the same expiry in the caller, at most once per :data:`EXPIRY_INTERVAL_S`, and also forgets the
moving windows left empty (the base class keeps their keys: one per client IP ever seen).
Counting happens on the event loop's thread only, so nothing else touches the counters.

The storage's expiry hooks are private to ``limits`` (pinned in ``pyproject.toml``);
``tests/tenancy/test_local_limits.py`` notices if a new version renames them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from limits.storage import MemoryStorage

EXPIRY_INTERVAL_S = 1.0
"""Counters and moving-window entries that expired are dropped at least this often (while
requests are being counted)."""

_SCHEDULE = "_MemoryStorage__schedule_expiry"
_EXPIRE = "_MemoryStorage__expire_events"


class LocalStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__(wrap_exceptions=True)
        self.timer.cancel()  # started by the base class; never needed here
        self._expire_now = cast(Callable[[], None], getattr(self, _EXPIRE))
        self._next_expiry = time.monotonic() + EXPIRY_INTERVAL_S
        setattr(self, _SCHEDULE, self._expire_due)

    def _expire_due(self) -> None:
        """Called by the base class on every hit, where it would start its timer thread."""
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRY_INTERVAL_S
            self._expire_now()
            for key in [key for key, entries in self.events.items() if not entries]:
                del self.events[key]
