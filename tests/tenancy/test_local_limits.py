"""In-process rate limit counters: counted in the caller, expired without a thread."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import memory
from limits.strategies import MovingWindowRateLimiter

from agenthost.tenancy import local_limits
from agenthost.tenancy.local_limits import EXPIRY_INTERVAL_S, LocalStorage


class Clock:
    """Stands in for the ``time`` module of ``limits``' storage and of ours."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def test_counting_starts_no_thread() -> None:
    storage = LocalStorage()
    storage.timer.join(timeout=5)  # the base class's own, cancelled at once
    threads = threading.active_count()
    limiter = MovingWindowRateLimiter(storage)
    item = parse("3/minute")
    allowed = [limiter.hit(item, "key", "k1") for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert threading.active_count() == threads


def test_expired_entries_are_dropped_by_a_later_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(memory, "time", clock)
    monkeypatch.setattr(local_limits, "time", clock)
    storage = LocalStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = parse("2/second")
    assert limiter.hit(item, "key", "a") and limiter.hit(item, "key", "a")
    assert not limiter.hit(item, "key", "a")
    (a_key,) = [key for key in storage.events if "/a/" in key]
    assert len(storage.events[a_key]) == 2

    clock.now += max(1.0, EXPIRY_INTERVAL_S) + 0.1  # the window is over, and a sweep is due
    assert limiter.hit(item, "key", "b")
    assert a_key not in storage.events
    assert any("/b/" in key for key in storage.events)
    assert limiter.hit(item, "key", "a")
