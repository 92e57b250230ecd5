import httpx2
import openai
import pytest
from agents.exceptions import MaxTurnsExceeded, ModelBehaviorError

from agenthost.classify import classify, retry_after_seconds
from agenthost.errors import ErrorCode, RunTimeout

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/responses")


def status(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    return openai.APIStatusError(
        "x", response=httpx2.Response(code, headers=headers or {}, request=REQUEST), body=None
    )


@pytest.mark.parametrize(
    ("exc", "code", "retriable"),
    [
        (status(429, {"retry-after": "3"}), ErrorCode.UPSTREAM_UNAVAILABLE, True),
        (status(503), ErrorCode.UPSTREAM_UNAVAILABLE, True),
        (status(400), ErrorCode.UPSTREAM_ERROR, False),
        (status(401), ErrorCode.UPSTREAM_ERROR, False),
        (openai.APIConnectionError(request=REQUEST), ErrorCode.UPSTREAM_UNAVAILABLE, True),
        (openai.APITimeoutError(request=REQUEST), ErrorCode.UPSTREAM_UNAVAILABLE, True),
        (MaxTurnsExceeded("too many"), ErrorCode.MAX_TURNS_EXCEEDED, False),
        (ModelBehaviorError("bad json"), ErrorCode.MODEL_BEHAVIOR_ERROR, False),
        (RuntimeError("surprise"), ErrorCode.INTERNAL, False),
    ],
)
def test_table(exc: Exception, code: ErrorCode, retriable: bool) -> None:
    error = classify(exc)
    assert error.code is code
    assert error.retriable is retriable


def test_upstream_retry_after_is_kept() -> None:
    assert classify(status(429, {"retry-after": "3"})).retry_after == 3.0


def test_cause_chain_is_followed_and_domain_errors_pass_through() -> None:
    timeout = RunTimeout()
    assert classify(timeout) is timeout
    try:
        try:
            raise status(503)
        except openai.APIStatusError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert classify(outer).code is ErrorCode.UPSTREAM_UNAVAILABLE


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx2.Headers(headers)) == expected
