"""Which fault (if any) a model request gets: marker, admin queue, or seeded rate.

Precedence: a ``[[fault:...]]`` marker in the last user message, then the admin queue (in
order), then the configured rate (drawn from the injector's own seeded RNG).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import FAULT_KINDS, MockLLMConfig
from .markers import find_fault_marker

_MAX_TIMES = 10_000


@dataclass(frozen=True)
class FaultSpec:
    """One fault to inject. ``retry_after_s`` only matters for 429 (None: config default)."""

    kind: str
    retry_after_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {list(FAULT_KINDS)}")
        if self.retry_after_s is not None and self.retry_after_s < 0:
            raise ValueError("retry_after must be >= 0")


def faults_from_payload(payload: Any) -> list[FaultSpec]:
    """Parse the admin body ``{"faults": [{"kind": "429", "retry_after": 1, "times": 2}]}``.

    Raises ValueError on anything malformed (the admin API answers 400).
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("faults"), list):
        raise ValueError('body must be {"faults": [{"kind": ...}, ...]}')
    specs: list[FaultSpec] = []
    for entry in payload["faults"]:
        if not isinstance(entry, Mapping):
            raise ValueError("each fault must be an object")
        times = entry.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= _MAX_TIMES:
            raise ValueError(f"times must be an integer in [1, {_MAX_TIMES}]")
        spec = FaultSpec(kind=str(entry.get("kind")), retry_after_s=_seconds(entry))
        specs.extend([spec] * times)
    return specs


def _seconds(entry: Mapping[str, Any]) -> float | None:
    value = entry.get("retry_after")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("retry_after must be a number of seconds")
    return float(value)


class FaultInjector:
    """Owns the fault queue and the seeded RNG of one mock server."""

    def __init__(self, config: MockLLMConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._queue: deque[FaultSpec] = deque()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def enqueue(self, faults: Iterable[FaultSpec]) -> None:
        self._queue.extend(faults)

    def reset(self) -> None:
        """Empty the queue and re-seed the RNG, so a seeded sequence starts over."""
        self._queue.clear()
        self._rng = random.Random(self._config.seed)

    def next_fault(self, user_text: str) -> FaultSpec | None:
        """The fault for a request whose last user message is ``user_text``, if any."""
        marker = find_fault_marker(user_text)
        if marker is not None and marker.kind in FAULT_KINDS:
            retry_after = _parse_seconds(marker.params.get("retry_after"))
            return FaultSpec(kind=marker.kind, retry_after_s=retry_after)
        if self._queue:
            return self._queue.popleft()
        rate = self._config.fault_rate
        if rate > 0 and self._rng.random() < rate:
            return FaultSpec(kind=self._rng.choice(self._config.fault_kinds))
        return None

    def retry_after(self, fault: FaultSpec) -> float:
        return self._config.retry_after_s if fault.retry_after_s is None else fault.retry_after_s


def _parse_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
