"""Fixtures for telemetry tests: logging configuration is undone after each test."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


@dataclass
class _LoggerState:
    handlers: list[logging.Handler]
    level: int
    propagate: bool
    disabled: bool


def _snapshot(logger: logging.Logger) -> _LoggerState:
    return _LoggerState(list(logger.handlers), logger.level, logger.propagate, logger.disabled)


def _restore(logger: logging.Logger, state: _LoggerState) -> None:
    logger.handlers[:] = state.handlers
    logger.setLevel(state.level)
    logger.propagate = state.propagate
    logger.disabled = state.disabled


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root and uvicorn loggers back as they were before the test."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in _UVICORN)]
    states = [_snapshot(lg) for lg in loggers]
    yield
    for logger, state in zip(loggers, states, strict=True):
        _restore(logger, state)
    logging.captureWarnings(False)


@pytest.fixture
def log_stream(restore_logging: None) -> io.StringIO:
    """A stream to pass to ``configure_logging``; logging is restored afterwards."""
    return io.StringIO()
