"""Stage 5 — settlement: record how the run ended and release what admission took.

Runs on every exit path: success, failure, timeout and cancellation.
"""

from __future__ import annotations

import asyncio
import logging

from agenthost.classify import classify
from agenthost.errors import ErrorCode
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.types import RunState

logger = logging.getLogger(__name__)


class Settlement:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle

    def settle(self, state: RunState, exc: BaseException | None) -> None:
        if exc is None:
            state.status = "succeeded"
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            state.status, state.error_code = "cancelled", ErrorCode.RUN_CANCELLED.value
        else:
            state.status, state.error_code = "failed", classify(exc).code.value
        try:
            logger.info(
                "run %s",
                state.status,
                extra={
                    "run_id": state.request.run_id,
                    "agent": state.entry.name,
                    "status": state.status,
                    "error_code": state.error_code,
                    "duration_ms": round(state.elapsed_ms(), 1),
                    "requests": state.usage.requests,
                    "input_tokens": state.usage.input_tokens,
                    "output_tokens": state.usage.output_tokens,
                },
            )
        finally:
            self._lifecycle.run_finished()
