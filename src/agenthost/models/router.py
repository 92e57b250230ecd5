"""``Model`` that spreads calls for one logical model over its deployments.

A strategy (:mod:`agenthost.models.routing`) chooses among the deployments whose circuit is
not open. A call that fails with a retriable error (an unavailable deployment, a 429, a
timeout) fails over at once to another deployment not tried yet for this call, while the run's
deadline has time left; a stream fails over only before its first event. When every deployment
was tried, the last error is raised, and the :class:`~agenthost.models.retry.RetryingModel`
around the router backs off and tries again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from agenthost.classify import classify
from agenthost.errors import CircuitOpen
from agenthost.models.deadline import remaining_s
from agenthost.models.routing import Deployment, Strategy, chooser

__all__ = ["Deployment", "RouterModel"]


class RouterModel(Model):
    def __init__(
        self,
        logical_name: str,
        deployments: Sequence[Deployment],
        strategy: Strategy = "round_robin",
    ) -> None:
        if not deployments:
            raise ValueError(f"no deployments serve model {logical_name!r}")
        self.logical_name = logical_name
        self.deployments = list(deployments)
        self._choose = chooser(strategy)

    def pick(self, tried: frozenset[str] = frozenset()) -> Deployment:
        """The next deployment by the strategy, among those not open and not ``tried``."""
        candidates = [
            d for d in self.deployments if d.name not in tried and d.model.breaker.available()
        ]
        if not candidates:
            wait = min(d.model.breaker.retry_after() for d in self.deployments)
            raise CircuitOpen(
                f"every deployment of {self.logical_name!r} is failing; circuits open",
                retry_after=wait or 1.0,
                details={"model": self.logical_name},
            )
        return self._choose(candidates)

    def _failed(
        self, deployment: Deployment, started: float, exc: Exception, tried: frozenset[str]
    ) -> bool:
        """Record a failed call; may it fail over to another deployment?"""
        retriable = classify(exc).retriable
        deployment.observe(time.perf_counter() - started, failed=retriable)
        left = remaining_s()
        return (
            retriable
            and (left is None or left > 0)
            and any(d.name not in tried and d.model.breaker.available() for d in self.deployments)
        )

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        tried: frozenset[str] = frozenset()
        while True:
            deployment = self.pick(tried)
            tried |= {deployment.name}
            started = time.perf_counter()
            deployment.in_flight += 1
            try:
                response = await deployment.model.get_response(*args, **kwargs)
            except Exception as exc:
                if not self._failed(deployment, started, exc, tried):
                    raise
                continue
            finally:
                deployment.in_flight -= 1
            deployment.observe(time.perf_counter() - started)
            return response

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        tried: frozenset[str] = frozenset()
        while True:
            deployment = self.pick(tried)
            tried |= {deployment.name}
            started = time.perf_counter()
            first = True
            deployment.in_flight += 1
            try:
                async for event in deployment.model.stream_response(*args, **kwargs):
                    if first:
                        first = False
                        deployment.observe(time.perf_counter() - started)
                    yield event
                return
            except Exception as exc:
                if not first or not self._failed(deployment, started, exc, tried):
                    raise
            finally:
                deployment.in_flight -= 1

    async def close(self) -> None:
        for deployment in self.deployments:
            await deployment.model.close()
