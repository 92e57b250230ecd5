"""Process-wide logging: JSON lines in production, readable lines on a terminal, redaction.

:func:`configure_logging` is called once by each entrypoint (CLI commands); library code only
calls ``logging.getLogger(__name__)``. Every record carries the contextvar fields of
:mod:`agenthost.telemetry.context` (``request_id``, ``agent``, ``run_id``, ...). Unless sensitive
logging is enabled, prompt/output and credential fields are replaced by ``[redacted]`` and
API keys or bearer tokens inside messages are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from opentelemetry import trace

from agenthost.telemetry.context import current_log_fields

HANDLER_NAME = "agenthost"
REDACTED = "[redacted]"

# Fields whose values are user content: redacted when their name matches exactly.
_CONTENT_FIELDS = frozenset(
    {"input", "output", "final_output", "prompt", "instructions", "messages"}
)
# Fields whose values are credentials: redacted when their name contains one of these...
_CREDENTIAL_PARTS = ("key", "secret", "password", "token", "authorization")
# ...unless it ends like a count or an identifier (``input_tokens``, ``api_key_id``).
_SAFE_SUFFIXES = ("tokens", "_id", "_prefix", "_count")
_SECRET_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-" + REDACTED),
    (re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), "Bearer " + REDACTED),
    # agenthost API keys: the public prefix stays, to tell which key it was.
    (re.compile(r"\b(ahk_[0-9a-f]{12})_[A-Za-z0-9_-]+"), r"\1_" + REDACTED),
)
_MAX_DEPTH = 6
_CONSOLE_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra`` or a filter.
# (uvicorn's ``color_message`` is its message with terminal colours: not a field of ours.)
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


def mask_secrets(text: str) -> str:
    """Mask OpenAI-style keys (``sk-...``), agenthost keys (``ahk_...``) and ``Bearer`` tokens
    inside ``text``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_field(name: str) -> bool:
    """True if a field with this name holds user content or a credential."""
    lowered = name.lower()
    if lowered in _CONTENT_FIELDS:
        return True
    if lowered.endswith(_SAFE_SUFFIXES):
        return False
    return any(part in lowered for part in _CREDENTIAL_PARTS)


def redact_value(value: Any, depth: int = 0) -> Any:
    """``value`` with sensitive keys of nested mappings redacted and secrets in text masked."""
    if isinstance(value, str):
        return mask_secrets(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if is_sensitive_field(str(k)) else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v, depth + 1) for v in value]
    return value


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The non-standard attributes of ``record``: its ``extra`` and context fields."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}


class ContextFilter(logging.Filter):
    """Copy the contextvar fields (``request_id``, bound fields, the OpenTelemetry
    ``trace_id`` and ``span_id``) onto each record.

    A field passed explicitly through ``extra`` wins over the context.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_log_fields().items():
            if name not in _RECORD_ATTRS and not hasattr(record, name):
                setattr(record, name, value)
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        return True


class RedactionFilter(logging.Filter):
    """Redact sensitive fields and mask secrets in the message and traceback, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in extra_fields(record).items():
            setattr(record, name, REDACTED if is_sensitive_field(name) else redact_value(value))
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, process id, message, extra
    fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = extra_fields(record)
        payload.update(
            timestamp=datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            level=record.levelname,
            logger=record.name,
            pid=record.process,
            message=record.getMessage(),
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO    logger: message key=value ...`` plus any traceback."""

    def __init__(self) -> None:
        super().__init__(_CONSOLE_FORMAT, "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def _choose_formatter(fmt: Literal["auto", "json", "console"], stream: TextIO) -> logging.Formatter:
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    return ConsoleFormatter() if fmt == "console" else JsonFormatter()


def _route_uvicorn_loggers() -> None:
    """uvicorn's server logs go through our handler; its access log is replaced by ours."""
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.setLevel(logging.NOTSET)
        uvicorn_logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    # One INFO line per upstream HTTP request is noise next to our own run and access logs;
    # alembic describes its migration context each time the schema is checked; aiosqlite logs
    # every statement with its parameters (conversation content) at DEBUG. The secrets
    # providers' clients log response bodies, which are secret values, at DEBUG.
    for chatty in (
        *("httpx", "httpx2", "httpcore", "openai", "alembic", "aiosqlite", "dbos"),
        *("botocore", "boto3", "hvac", "urllib3"),
    ):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # DBOS gives its logger a console handler of its own unless it has one: a no-op handler
    # keeps its records flowing to ours instead.
    dbos = logging.getLogger("dbos")
    if not dbos.handlers:
        dbos.addHandler(logging.NullHandler())


def configure_logging(
    *,
    level: str,
    fmt: Literal["auto", "json", "console"],
    sensitive: bool,
    stream: TextIO | None = None,
) -> None:
    """Install agenthost's handler on the root logger (replacing a previous one).

    ``stream`` defaults to ``sys.stderr``. Safe to call more than once. uvicorn must be started
    with ``log_config=None`` or it reconfigures its loggers afterwards.
    """
    target = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(target)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(_choose_formatter(fmt, target))
    handler.addFilter(ContextFilter())
    if not sensitive:
        handler.addFilter(RedactionFilter())

    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(existing)
        existing.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    _route_uvicorn_loggers()
    logging.captureWarnings(True)
