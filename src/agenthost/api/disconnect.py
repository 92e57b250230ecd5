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
    """Await ``work``; if the client disconnects first, cancel it and raise RunCancelled.

    ``work`` runs in the request's own task (not one of its own: a task less per request);
    a watcher task cancels the request's task when the disconnect arrives.
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("unless_disconnected must be awaited in a task")
    gone = False

    async def watch() -> None:
        nonlocal gone
        # The body has been read: the next message is the disconnect (or never comes).
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone = True
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        result = await work
    except asyncio.CancelledError:
        # Ours only if nobody else cancelled the request's task too (shutdown, the server).
        if gone and task.uncancel() == 0:
            raise RunCancelled("the client disconnected; the run was stopped") from None
        raise
    finally:
        watcher.cancel()
    if gone:  # the run ended anyway, swallowing the cancellation: take the request back
        task.uncancel()
    return result
