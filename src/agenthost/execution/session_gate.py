"""Where the pipeline meets a run's session lease (``tenancy/session_lock.py``).

Admission takes the run's place in its session's line (:func:`enter`), the run waits for its
turn at its first read of the session (inside its deadline), a successful run writes its turn
(:func:`commit`, outside the deadline, to completion), and settlement gives the lease up on
every path (:func:`release`). Runs without a session pass straight through.
"""

from __future__ import annotations

import logging

from agenthost.errors import RunCancelled
from agenthost.execution.shielded import to_completion
from agenthost.execution.types import RunState
from agenthost.tenancy.session_lock import INTERRUPTED_MESSAGE, SessionTurn

logger = logging.getLogger(__name__)


def turn_of(state: RunState) -> SessionTurn | None:
    return state.session if isinstance(state.session, SessionTurn) else None


def bind(state: RunState) -> None:
    """An interrupt of the run's session stops the run, as cancelled."""
    turn = turn_of(state)
    if turn is not None:

        def interrupt() -> None:
            if state.abort is not None:
                state.abort(RunCancelled(INTERRUPTED_MESSAGE))

        turn.on_interrupt = interrupt


def continued(state: RunState, round_: int) -> None:
    """The run continues after its ``round_``-th stop for approval: what it writes to its
    session is a part of its own (the part before the stop was written when it stopped)."""
    turn = turn_of(state)
    if turn is not None:
        turn.part = f"{turn.run_id}.{round_}"


async def enter(state: RunState) -> None:
    """Take the run's place in its session's line (SessionBusy if refused)."""
    turn = turn_of(state)
    if turn is not None:
        await to_completion(turn.take(state.request.on_busy))


async def commit(state: RunState) -> None:
    """Write a successful run's turn to its session (RunCancelled if it was interrupted)."""
    turn = turn_of(state)
    if turn is not None:
        await to_completion(turn.commit())


async def release(state: RunState) -> None:
    """Give up the run's place or lease, however it ended. A failure is logged: the lease then
    expires by itself (and no longer counts once the run's record has ended)."""
    turn = turn_of(state)
    if turn is None:
        return
    try:
        await to_completion(turn.release())
    except Exception:
        logger.exception("could not give up the session lease", extra={"run_id": turn.run_id})


def suspend(state: RunState) -> None:
    """The run moves to another process: stop watching its lease, keep it."""
    turn = turn_of(state)
    if turn is not None:
        turn.stop_watching()
