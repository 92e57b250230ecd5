"""Fixtures of the crash tests: servers whose tools (``tests/jobs/crash_agents.py``) log their
calls, so a test can tell which calls a crash interrupted and which completed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.processes import Servers


@pytest.fixture
def crash_servers(
    mock_llm: MockLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Servers]:
    """``agenthost serve``/``worker`` processes logging their tool calls to
    ``tmp_path / "tools.log"``; those still running are killed after the test."""
    monkeypatch.setenv("CRASH_TOOL_LOG", str(tmp_path / "tools.log"))
    started = Servers(mock_llm)
    yield started
    started.kill_all()
