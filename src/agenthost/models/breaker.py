"""A circuit breaker per model deployment: closed → open → half-open → closed.

Failures are counted per dependency (one breaker per deployment) in a sliding time window.
When ``failure_threshold`` failures fall inside ``window_s`` and they are at least
``failure_ratio`` of the calls that ended in it (so that a busy deployment is not cut off for
a handful of failures among thousands of successes), the circuit opens and calls fail fast for
``cooldown_s``; then one probe is let through (half-open). The probe's success closes
the circuit, its failure opens it again for another cool-down.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

logger = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 5
    window_s: float = 30.0
    cooldown_s: float = 15.0
    failure_ratio: float = 0.0
    """Least share of failures among the calls in the window that opens the circuit."""


class CircuitBreaker:
    """State machine only: callers ask :meth:`allow` before a call and report its outcome."""

    def __init__(
        self,
        name: str,
        config: BreakerConfig,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self.name = name
        self._on_change = on_change
        self._config = config
        self._clock = clock
        self._failures: deque[float] = deque()
        self._successes: deque[float] = deque()
        """When calls succeeded within the window (kept only when a ratio is configured)."""
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.retry_after() == 0:
            return BreakerState.HALF_OPEN
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when it would now)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self._config.cooldown_s - self._clock())

    def available(self) -> bool:
        """Would :meth:`allow` admit a call now? (Does not take the half-open probe.)"""
        if self._state is BreakerState.CLOSED:
            return True
        return self.retry_after() == 0 and not self._probe_in_flight

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one probe at a time does."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if self.retry_after() > 0:
                return False
            self._transition(BreakerState.HALF_OPEN)
        if self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probe_in_flight = False
            self._failures.clear()
            self._successes.clear()
            self._transition(BreakerState.CLOSED)
        elif self._config.failure_ratio > 0:
            now = self._clock()
            self._successes.append(now)
            _prune(self._successes, now - self._config.window_s)

    def record_failure(self) -> None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            self._probe_in_flight = False
            self._open(now)
            return
        if self._state is BreakerState.OPEN:
            return
        self._failures.append(now)
        _prune(self._failures, now - self._config.window_s)
        _prune(self._successes, now - self._config.window_s)
        failures = len(self._failures)
        if failures >= self._config.failure_threshold and failures >= (
            self._config.failure_ratio * (failures + len(self._successes))
        ):
            self._open(now)

    def release_probe(self) -> None:
        """A half-open probe ended without a verdict (e.g. cancelled): let another through."""
        self._probe_in_flight = False

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._failures.clear()
        self._successes.clear()
        self._transition(BreakerState.OPEN)

    def _transition(self, state: BreakerState) -> None:
        if state is not self._state:
            log = logger.warning if state is BreakerState.OPEN else logger.info
            log("circuit %s: %s -> %s", self.name, self._state.value, state.value)
            self._state = state
            if self._on_change is not None:
                self._on_change(self.name, state)


def _prune(moments: deque[float], before: float) -> None:
    while moments and moments[0] <= before:
        moments.popleft()
