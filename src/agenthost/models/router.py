"""``Model`` that spreads calls for one logical model over its deployments.

Smooth weighted round-robin over the deployments whose circuit is not open. Wrapped in a
:class:`~agenthost.models.retry.RetryingModel`, a retriable failure on one deployment is
retried on the next one, so a failing deployment is failed over within the run's deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from agenthost.errors import CircuitOpen
from agenthost.models.breaker_model import BreakerModel


@dataclass(slots=True)
class Deployment:
    name: str
    model: BreakerModel
    weight: int = 1
    current: int = field(default=0, repr=False)


class RouterModel(Model):
    def __init__(self, logical_name: str, deployments: Sequence[Deployment]) -> None:
        if not deployments:
            raise ValueError(f"no deployments serve model {logical_name!r}")
        self.logical_name = logical_name
        self.deployments = list(deployments)

    def pick(self) -> Deployment:
        """Next deployment by smooth weighted round-robin among those not open."""
        candidates = [d for d in self.deployments if d.model.breaker.available()]
        if not candidates:
            wait = min(d.model.breaker.retry_after() for d in self.deployments)
            raise CircuitOpen(
                f"every deployment of {self.logical_name!r} is failing; circuits open",
                retry_after=wait or 1.0,
                details={"model": self.logical_name},
            )
        total = sum(d.weight for d in candidates)
        for d in candidates:
            d.current += d.weight
        chosen = max(candidates, key=lambda d: d.current)
        chosen.current -= total
        return chosen

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return await self.pick().model.get_response(*args, **kwargs)

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        async for event in self.pick().model.stream_response(*args, **kwargs):
            yield event

    async def close(self) -> None:
        for deployment in self.deployments:
            await deployment.model.close()
