from agenthost.models.breaker import BreakerConfig, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    threshold: int = 3, window: float = 10.0, cooldown: float = 5.0
) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker("dep", BreakerConfig(threshold, window, cooldown), clock), clock


def test_opens_after_threshold_failures_within_window() -> None:
    breaker, _ = make()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == 5.0


def test_failures_outside_the_window_do_not_count() -> None:
    breaker, clock = make()
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 11
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_half_open_after_cooldown_admits_exactly_one_probe() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.available()
    assert breaker.allow()
    assert not breaker.available()
    assert not breaker.allow()  # second caller waits for the probe's verdict


def test_probe_success_closes_and_failure_reopens() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after() == 5.0
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    # A fresh closed circuit needs the full threshold again.
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_released_probe_lets_another_through() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.release_probe()
    assert breaker.allow()


def test_with_a_ratio_failures_among_many_successes_do_not_open() -> None:
    clock = Clock()
    breaker = CircuitBreaker("dep", BreakerConfig(3, 10.0, 5.0, failure_ratio=0.5), clock)
    for _ in range(4):
        breaker.record_success()
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED  # 3 of 7 calls failed
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN  # 4 of 8


def test_successes_outside_the_window_do_not_dilute_failures() -> None:
    clock = Clock()
    breaker = CircuitBreaker("dep", BreakerConfig(3, 10.0, 5.0, failure_ratio=0.5), clock)
    for _ in range(100):
        breaker.record_success()
    clock.now += 11
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
