"""Stage 5 — settlement: record how the run ended and release what admission took.

Runs on every exit path: success, failure, timeout and cancellation. Failures leave the
pipeline already classified as :class:`~agenthost.errors.AgentHostError`. The run record and
the quota release are written even if the task is cancelled again while writing them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agenthost.classify import classify
from agenthost.errors import ErrorCode
from agenthost.execution import session_gate
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.shielded import to_completion
from agenthost.execution.types import RunState
from agenthost.telemetry.runs import RunTelemetry
from agenthost.tenancy.ledger import Ledger

logger = logging.getLogger(__name__)


class Settlement:
    def __init__(self, lifecycle: Lifecycle, ledger: Ledger, telemetry: RunTelemetry) -> None:
        self._lifecycle = lifecycle
        self._ledger = ledger
        self._telemetry = telemetry

    @asynccontextmanager
    async def settling(self, state: RunState) -> AsyncIterator[None]:
        """Settle ``state`` (admitted, so already in flight) however the block ends.

        Errors leave the block classified as AgentHostError naming the run.
        """
        try:
            yield
        except Exception as exc:
            error = classify(exc)
            if error.code is ErrorCode.RUN_CANCELLED:
                state.mark_cancelled()
            else:
                state.status, state.error_code = "failed", error.code.value
                state.error_message = error.message
            if error.code is ErrorCode.INTERNAL and error is not exc:
                logger.error("run failed unexpectedly", exc_info=exc, extra=_ids(state))
            raise error.for_run(state.request.run_id) from exc
        except BaseException:  # cancelled (client gone, shutdown): settle, then propagate
            state.mark_cancelled()
            raise
        else:
            if state.status == "running":  # (not stopped for approval)
                state.status = "succeeded"
        finally:
            if state.suspended:  # resumed elsewhere: its outcome is not known yet
                session_gate.suspend(state)
                self._lifecycle.run_finished(state)
            else:
                await self._settle(state)

    async def abandon(self, state: RunState) -> None:
        """Settle an admitted run that never started (its stream was never read)."""
        state.mark_cancelled()
        await self._settle(state)

    async def _settle(self, state: RunState) -> None:
        try:
            if logger.isEnabledFor(logging.INFO):
                logger.info("run %s", state.status, extra=_fields(state))
            self._telemetry.settled(state, cached=state.cached)
            await to_completion(self._ledger.close(state))
        except Exception:
            # The outcome stands; the usage is at least in this log line.
            logger.exception("could not record the run's outcome", extra=_fields(state))
        finally:
            await session_gate.release(state)
            self._lifecycle.run_finished(state)


def _fields(state: RunState) -> dict[str, Any]:
    """The log fields of a settled run: who, how it ended, how long, what it used."""
    usage = state.usage
    return {
        **_ids(state),
        "status": state.status,
        "error_code": state.error_code,
        "duration_ms": round(state.elapsed_ms(), 1),
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }


def _ids(state: RunState) -> dict[str, str]:
    return {"run_id": state.request.run_id, "agent": state.entry.name, "tenant": state.tenant_id}
