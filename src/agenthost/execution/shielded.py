"""Finish a database write even if the task awaiting it is cancelled meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Await ``work`` to its end; a cancellation that arrives meanwhile is re-raised after.

    Bookkeeping (a quota reservation, a run record) must not be left half-done because the
    client went away or shutdown cancelled the run at that moment.
    """
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # mark any failure retrieved: the cancellation wins
        raise cancelled
    return task.result()
