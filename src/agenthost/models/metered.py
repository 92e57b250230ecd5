"""``Model`` wrapper that measures each call to one deployment: a span and metrics.

Each attempt is a ``model_call`` span (a child of the SDK's agent span, the parent of the SDK's
own generation/response span) naming the deployment, the model and the tokens used; and it
counts in ``agenthost_model_calls``, ``agenthost_model_call_duration_seconds`` and, when it
fails, ``agenthost_model_call_errors`` by error code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.tracing import custom_span
from agents.usage import Usage

from agenthost.classify import classify
from agenthost.telemetry.metrics import Metrics


class MeteredModel(Model):
    def __init__(self, inner: Model, metrics: Metrics, deployment: str, model: str) -> None:
        self.inner = inner
        self._metrics = metrics
        self.deployment = deployment
        self.model = model

    @contextmanager
    def _measured(self) -> Iterator[dict[str, Any]]:
        """Span and metrics around one call; the block puts its usage in the yielded dict."""
        data: dict[str, Any] = {
            "agenthost.deployment": self.deployment,
            "gen_ai.request.model": self.model,
        }
        started = time.perf_counter()
        outcome = "ok"
        with custom_span("model_call", data) as span:
            try:
                yield data
            except (asyncio.CancelledError, GeneratorExit):
                outcome = "cancelled"
                raise
            except Exception as exc:
                outcome = "error"
                code = classify(exc).code.value
                data["error.type"] = code
                span.set_error({"message": code, "data": None})
                self._metrics.model_call_errors.labels(self.deployment, code).inc()
                raise
            finally:
                self._metrics.model_call_duration.labels(self.deployment).observe(
                    time.perf_counter() - started
                )
                self._metrics.model_calls.labels(self.deployment, self.model, outcome).inc()

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        with self._measured() as data:
            response = await self.inner.get_response(*args, **kwargs)
            _put_usage(data, response.usage)
            return response

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        with self._measured() as data:
            async for event in self.inner.stream_response(*args, **kwargs):
                if event.type == "response.completed" and event.response.usage is not None:
                    usage = event.response.usage
                    _put_usage(
                        data,
                        Usage(
                            input_tokens=usage.input_tokens,
                            output_tokens=usage.output_tokens,
                        ),
                    )
                yield event

    async def close(self) -> None:
        await self.inner.close()


def _put_usage(data: dict[str, Any], usage: Usage) -> None:
    data["gen_ai.usage.input_tokens"] = usage.input_tokens
    data["gen_ai.usage.output_tokens"] = usage.output_tokens
