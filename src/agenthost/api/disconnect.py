"""Stop a synchronous run when its caller goes away.

A run nobody will read keeps spending tokens and holding a slot until its deadline. Streams
are stopped by Starlette's own disconnect listener; a JSON route awaits its run through
:func:`unless_disconnected`, which cancels the run when ``http.disconnect`` arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.requests import Request

from agenthost.errors import RunCancelled

T = TypeVar("T")


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; if the client disconnects first, cancel it and raise RunCancelled."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        # The body has been read: the next message is the disconnect (or never comes).
        while (await request.receive())["type"] != "http.disconnect":
            pass
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await task
    except asyncio.CancelledError:
        if watcher.done() and not watcher.cancelled():
            raise RunCancelled("the client disconnected; the run was stopped") from None
        raise
    finally:
        watcher.cancel()
