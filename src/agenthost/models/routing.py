"""How a router chooses among the deployments of one logical model that may take a call now.

- ``round_robin``: smooth weighted round-robin (each deployment gets its weight's share, spread
  evenly rather than in bursts).
- ``least_in_flight``: the fewest calls in progress per unit of weight; ties by round-robin.
- ``lowest_latency``: the lowest EWMA of call latency (for streams: time to the first event)
  times (calls in progress + 1), per unit of weight. Deployments not measured yet are tried
  first, and every ``EXPLORE_EVERY``-th choice is round-robin, so that a deployment that was
  slow once is measured again. A failed call counts as twice the deployment's average.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agenthost.models.breaker_model import BreakerModel

Strategy = Literal["round_robin", "least_in_flight", "lowest_latency"]

EWMA_ALPHA = 0.3
"""Weight of the newest latency sample in a deployment's average."""
EXPLORE_EVERY = 16
FAILURE_PENALTY = 2.0


@dataclass(slots=True)
class Deployment:
    name: str
    model: BreakerModel
    weight: int = 1
    current: int = field(default=0, repr=False)
    """Smooth weighted round-robin's running score."""
    in_flight: int = 0
    latency_s: float | None = None
    """EWMA of call latency; None until a call was measured."""

    def observe(self, seconds: float, *, failed: bool = False) -> None:
        if failed:
            seconds = max(seconds, self.latency_s or 0.0) * FAILURE_PENALTY
        if self.latency_s is None:
            self.latency_s = seconds
        else:
            self.latency_s += EWMA_ALPHA * (seconds - self.latency_s)


Chooser = Callable[[Sequence[Deployment]], Deployment]


def round_robin(candidates: Sequence[Deployment]) -> Deployment:
    total = 0
    chosen = candidates[0]
    for d in candidates:
        d.current += d.weight
        total += d.weight
        if d.current > chosen.current:
            chosen = d
    chosen.current -= total
    return chosen


def _lowest(candidates: Sequence[Deployment], score: Callable[[Deployment], float]) -> Deployment:
    """The deployment with the lowest score; ties by round-robin among them."""
    scores = [score(d) for d in candidates]
    best = min(scores)
    return round_robin([d for d, s in zip(candidates, scores, strict=True) if s == best])


def least_in_flight(candidates: Sequence[Deployment]) -> Deployment:
    return _lowest(candidates, lambda d: d.in_flight / d.weight)


class LowestLatency:
    def __init__(self) -> None:
        self._choices = 0

    def __call__(self, candidates: Sequence[Deployment]) -> Deployment:
        self._choices += 1
        unmeasured = [d for d in candidates if d.latency_s is None]
        if unmeasured:
            return round_robin(unmeasured)
        if self._choices % EXPLORE_EVERY == 0:
            return round_robin(candidates)
        return _lowest(candidates, lambda d: (d.latency_s or 0.0) * (d.in_flight + 1) / d.weight)


def chooser(strategy: Strategy) -> Chooser:
    if strategy == "least_in_flight":
        return least_in_flight
    if strategy == "lowest_latency":
        return LowestLatency()
    return round_robin
