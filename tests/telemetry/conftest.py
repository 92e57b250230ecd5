"""Fixtures for telemetry tests: logging configuration is undone after each test; the example
agents served with every span captured."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.conftest import mock_settings, serving

from agenthost.api.app import create_app
from agenthost.container import build_container
from agenthost.registry import load_registry
from agenthost.testing.mock_llm.server import MockLLMServer

Traced = tuple[httpx2.AsyncClient, InMemorySpanExporter]

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


@pytest.fixture
def traced(mock_llm: MockLLMServer) -> Callable[..., Any]:
    """``async with traced(**settings) as (client, exporter)``: the example agents over HTTP,
    every finished span in ``exporter``."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Traced]:
        settings = mock_settings(mock_llm, **overrides)
        container = build_container(settings, registry=load_registry("examples.registry:registry"))
        exporter = InMemorySpanExporter()
        container.tracing.add_span_processor(SimpleSpanProcessor(exporter))
        app = create_app(settings, container=container)
        async with serving(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as client:
            yield client, exporter

    return start
