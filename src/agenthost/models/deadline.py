"""The current run's deadline, visible to the model layer (retries never outlive it)."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar, Token

_deadline: ContextVar[float | None] = ContextVar("agenthost_run_deadline", default=None)


def set_deadline(loop_time: float | None) -> Token[float | None]:
    """Set the absolute deadline (event-loop time); returns a token for :func:`reset_deadline`."""
    return _deadline.set(loop_time)


def reset_deadline(token: Token[float | None]) -> None:
    _deadline.reset(token)


def remaining_s() -> float | None:
    """Seconds left before the current run's deadline; None when there is no deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return deadline - asyncio.get_running_loop().time()
