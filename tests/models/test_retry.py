import asyncio
import random

import httpx2
import openai
import pytest
from agents.models.interface import Model

from agenthost.errors import CircuitOpen
from agenthost.models.deadline import reset_deadline, set_deadline
from agenthost.models.retry import RetryingModel, RetryPolicy


def status_error(status: int, retry_after: str | None = None) -> openai.APIStatusError:
    headers = {"retry-after": retry_after} if retry_after else {}
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(status, headers=headers, request=request)
    cls = openai.RateLimitError if status == 429 else openai.APIStatusError
    return cls("boom", response=response, body=None)


class Flaky(Model):
    """Fails with the given errors, then answers 'ok'."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def get_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        yield "a"
        yield "b"


def retrying(inner: Model, attempts: int = 3, sleeps: list[float] | None = None) -> RetryingModel:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return RetryingModel(inner, RetryPolicy(attempts, 0.5, 4.0), rng=random.Random(7), sleep=sleep)


def test_delay_is_full_jitter_capped_and_at_least_retry_after() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=4.0)
    rng = random.Random(1)
    for attempt in range(1, 6):
        ceiling = min(4.0, 2 ** (attempt - 1))
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # really spread over the range
    assert policy.delay(1, 3.0, rng) >= 3.0  # Retry-After wins over a shorter backoff
    assert policy.delay(5, 30.0, rng) == 30.0  # and over the cap


async def test_retries_retriable_errors_then_succeeds() -> None:
    sleeps: list[float] = []
    inner = Flaky([status_error(503), status_error(429, "2")])
    assert await retrying(inner, sleeps=sleeps).get_response() == "ok"
    assert inner.calls == 3
    assert sleeps[1] >= 2.0


async def test_gives_up_after_max_attempts() -> None:
    inner = Flaky([status_error(500)] * 5)
    with pytest.raises(openai.APIStatusError):
        await retrying(inner, attempts=3).get_response()
    assert inner.calls == 3


@pytest.mark.parametrize("error", [status_error(400), CircuitOpen(retry_after=1)])
async def test_does_not_retry_permanent_errors_or_open_circuits(error: Exception) -> None:
    inner = Flaky([error])
    with pytest.raises(type(error)):
        await retrying(inner).get_response()
    assert inner.calls == 1


async def test_never_waits_past_the_deadline() -> None:
    sleeps: list[float] = []
    inner = Flaky([status_error(429, "5")])
    token = set_deadline(asyncio.get_running_loop().time() + 2.0)
    try:
        with pytest.raises(openai.RateLimitError):
            await retrying(inner, sleeps=sleeps).get_response()
    finally:
        reset_deadline(token)
    assert sleeps == [] and inner.calls == 1


async def test_stream_retried_only_before_the_first_event() -> None:
    inner = Flaky([status_error(503)])
    events = [e async for e in retrying(inner).stream_response()]
    assert events == ["a", "b"] and inner.calls == 2

    class BreaksMidway(Model):
        calls = 0

        async def get_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise NotImplementedError

        async def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls += 1
            yield "a"
            raise status_error(503)

    broken = BreaksMidway()
    with pytest.raises(openai.APIStatusError):
        _ = [e async for e in retrying(broken).stream_response()]
    assert broken.calls == 1
