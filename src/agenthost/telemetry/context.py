"""Per-request context carried by contextvars: the request id and other fields bound for logs.

The request id is set by ``RequestIdMiddleware``; other code binds fields such as ``agent`` or
``run_id`` with :func:`bind_log_fields` so every log record emitted inside carries them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_request_id: ContextVar[str | None] = ContextVar("agenthost_request_id", default=None)
_log_fields: ContextVar[Mapping[str, Any]] = ContextVar(
    "agenthost_log_fields", default=MappingProxyType({})
)


def current_request_id() -> str | None:
    """The id of the HTTP request being handled, or None outside a request."""
    return _request_id.get()


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Make ``request_id`` the current request id for the duration of the block."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def current_log_fields() -> dict[str, Any]:
    """Fields every log record should carry now: bound fields plus ``request_id`` if set."""
    fields = dict(_log_fields.get())
    request_id = _request_id.get()
    if request_id is not None:
        fields.setdefault("request_id", request_id)
    return fields


@contextmanager
def bind_log_fields(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (e.g. ``agent=..., run_id=...``) to log records emitted in the block.

    Bindings nest: an inner block sees the outer fields, overriding those it names again.
    """
    merged = MappingProxyType({**_log_fields.get(), **fields})
    token = _log_fields.set(merged)
    try:
        yield
    finally:
        _log_fields.reset(token)
