from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest

from agenthost.telemetry.context import bind_log_fields, request_id_bound
from agenthost.telemetry.logging import HANDLER_NAME, configure_logging

OPENAI_KEY = "sk-proj-AbCdEfGh1234567890_xyz"
AGENTHOST_KEY = "ahk_0123456789ab_s3cr3t-Key_Material-0123456789abcdefABCDEF01"
BEARER = "eyJhbGciOiJIUzI1NiJ9.payload.sig"


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _configure(stream: io.StringIO, *, sensitive: bool = False, fmt: Any = "json") -> None:
    configure_logging(level="INFO", fmt=fmt, sensitive=sensitive, stream=stream)


def test_json_lines_carry_context_and_extra(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    logger = logging.getLogger("agenthost.tests.json")
    with request_id_bound("req-12345678"), bind_log_fields(agent="triage", run_id="run_1"):
        logger.info("hello %s", "world", extra={"duration_ms": 12.5, "when": datetime(2024, 1, 2)})
    logger.debug("below the level")

    [line] = _lines(log_stream)
    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
    assert line["logger"] == "agenthost.tests.json"
    assert line["request_id"] == "req-12345678"
    assert line["agent"] == "triage"
    assert line["run_id"] == "run_1"
    assert line["duration_ms"] == 12.5
    assert line["when"] == "2024-01-02 00:00:00"
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() == timedelta(0)


def test_json_exception_is_a_string_field(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    try:
        raise ValueError("bad thing")
    except ValueError:
        logging.getLogger("agenthost.tests").exception("failed")
    [line] = _lines(log_stream)
    assert line["message"] == "failed"
    assert "Traceback" in line["exception"]
    assert "ValueError: bad thing" in line["exception"]


def test_no_request_id_field_outside_a_request(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    logging.getLogger("agenthost.tests").warning("plain")
    [line] = _lines(log_stream)
    assert "request_id" not in line


SENSITIVE_EXTRA = {
    "input": "my medical history",
    "output": "the diagnosis",
    "prompt": "system prompt",
    "instructions": "be nice",
    "api_key": "abc123",
    "Authorization": "Basic dXNlcjpwYXNz",
    "client_secret": "s3cr3t",
    "password": "hunter2",
    "access_token": "tok",
}
KEPT_EXTRA = {"input_tokens": 12, "output_tokens": 34, "api_key_id": "key_1", "status": 200}


def test_redaction_by_default(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    logger = logging.getLogger("agenthost.tests")
    extra = {
        **SENSITIVE_EXTRA,
        **KEPT_EXTRA,
        "headers": {"authorization": f"Bearer {BEARER}", "accept": "application/json"},
        "note": f"upstream said {OPENAI_KEY}",
        "presented": f"client sent {AGENTHOST_KEY}",
    }
    with bind_log_fields(prompt="bound prompt"):
        logger.info("key %s and Bearer %s", OPENAI_KEY, BEARER, extra=extra)

    [line] = _lines(log_stream)
    for name in SENSITIVE_EXTRA:
        assert line[name] == "[redacted]", name
    for name, value in KEPT_EXTRA.items():
        assert line[name] == value, name
    assert line["headers"] == {"authorization": "[redacted]", "accept": "application/json"}
    assert line["note"] == "upstream said sk-[redacted]"
    assert line["presented"] == f"client sent {AGENTHOST_KEY[:16]}_[redacted]"
    assert OPENAI_KEY not in line["message"] and BEARER not in line["message"]
    assert "sk-[redacted]" in line["message"]
    assert "Bearer [redacted]" in line["message"]
    raw = log_stream.getvalue()
    assert all(secret not in raw for secret in (OPENAI_KEY, BEARER, "hunter2", "bound prompt"))


def test_secrets_in_tracebacks_are_masked(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    try:
        raise PermissionError(f"Incorrect API key provided: {OPENAI_KEY}")
    except PermissionError:
        logging.getLogger("agenthost.tests").exception("upstream refused")
    [line] = _lines(log_stream)
    assert "PermissionError" in line["exception"]
    assert OPENAI_KEY not in line["exception"]


def test_sensitive_mode_keeps_everything(log_stream: io.StringIO) -> None:
    _configure(log_stream, sensitive=True)
    logging.getLogger("agenthost.tests").info("key %s", OPENAI_KEY, extra=SENSITIVE_EXTRA)
    [line] = _lines(log_stream)
    assert line["message"] == f"key {OPENAI_KEY}"
    for name, value in SENSITIVE_EXTRA.items():
        assert line[name] == value


def test_configure_twice_keeps_one_handler(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    _configure(log_stream)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    assert len(ours) == 1
    logging.getLogger("agenthost.tests").info("once")
    assert len(_lines(log_stream)) == 1


def test_uvicorn_loggers_share_the_handler(log_stream: io.StringIO) -> None:
    stray = logging.StreamHandler(io.StringIO())
    logging.getLogger("uvicorn.error").addHandler(stray)
    _configure(log_stream)
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    [line] = _lines(log_stream)
    assert line["logger"] == "uvicorn.error"
    assert stray not in logging.getLogger("uvicorn.error").handlers


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("fmt", "stream_type", "is_json"),
    [
        ("auto", io.StringIO, True),
        ("auto", _Terminal, False),
        ("console", io.StringIO, False),
        ("json", _Terminal, True),
    ],
)
def test_format_choice(restore_logging: None, fmt: Any, stream_type: type, is_json: bool) -> None:
    stream = stream_type()
    _configure(stream, fmt=fmt)
    with request_id_bound("req-12345678"):
        logging.getLogger("agenthost.tests").info("hello", extra={"password": "pw"})
    output = stream.getvalue().strip()
    if is_json:
        assert json.loads(output)["message"] == "hello"
    else:
        assert "INFO" in output and "agenthost.tests: hello" in output
        assert "request_id=req-12345678" in output
        assert "password=[redacted]" in output
