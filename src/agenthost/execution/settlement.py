"""Stage 5 — settlement: record how the run ended and release what admission took.

Runs on every exit path: success, failure, timeout and cancellation. Failures leave the
pipeline already classified as :class:`~agenthost.errors.AgentHostError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from agenthost.classify import classify
from agenthost.errors import ErrorCode
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.types import RunState

logger = logging.getLogger(__name__)


class Settlement:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle

    @contextmanager
    def settling(self, state: RunState) -> Iterator[None]:
        """Hold an in-flight slot for the block; settle ``state`` however it ends.

        Errors leave the block classified as AgentHostError.
        """
        self._lifecycle.run_started(state)
        try:
            yield
        except Exception as exc:
            error = classify(exc)
            state.status, state.error_code = "failed", error.code.value
            if error.code is ErrorCode.INTERNAL and error is not exc:
                logger.error("run failed unexpectedly", exc_info=exc, extra=_ids(state))
            if error is exc:
                raise
            raise error from exc
        except BaseException:  # cancelled (client gone, shutdown): settle, then propagate
            state.status, state.error_code = "cancelled", ErrorCode.RUN_CANCELLED.value
            raise
        else:
            state.status = "succeeded"
        finally:
            self._settle(state)

    def _settle(self, state: RunState) -> None:
        try:
            logger.info(
                "run %s",
                state.status,
                extra={
                    **_ids(state),
                    "status": state.status,
                    "error_code": state.error_code,
                    "duration_ms": round(state.elapsed_ms(), 1),
                    "requests": state.usage.requests,
                    "input_tokens": state.usage.input_tokens,
                    "output_tokens": state.usage.output_tokens,
                },
            )
        finally:
            self._lifecycle.run_finished(state)


def _ids(state: RunState) -> dict[str, str]:
    return {"run_id": state.request.run_id, "agent": state.entry.name}
