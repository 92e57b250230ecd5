"""Waiting on conditions that live in another process (or a server's state), with a bound."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

POLL_S = 0.02


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout_s: float = 10.0
) -> None:
    """Return once ``condition()`` is true; TimeoutError after ``timeout_s``.

    For state we cannot subscribe to (another process's counters, a breaker's clock); anything
    in this process that offers an event is awaited directly instead.
    """
    async with asyncio.timeout(timeout_s):
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(POLL_S)
