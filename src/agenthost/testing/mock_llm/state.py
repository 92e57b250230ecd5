"""Everything one mock LLM server owns: config, counters, fault queue and RNG, latency."""

from __future__ import annotations

from starlette.requests import Request

from .config import MockLLMConfig
from .faults import FaultInjector
from .stats import MockLLMStats


class MockLLMState:
    """Created by ``create_mock_llm_app`` and stored on ``app.state.mock_llm``."""

    def __init__(self, config: MockLLMConfig) -> None:
        self.config = config
        self.stats = MockLLMStats()
        self.faults = FaultInjector(config)
        self.latency_ms = config.latency_ms
        """Current base latency; the admin API can change it at run time."""
        self.chunk_delay_ms = config.chunk_delay_ms
        """Current delay between streamed chunks; the admin API can change it at run time."""

    def reset(self) -> None:
        """Clear the fault queue and counters; delays go back to the configured values."""
        self.faults.reset()
        self.stats.reset()
        self.latency_ms = self.config.latency_ms
        self.chunk_delay_ms = self.config.chunk_delay_ms


def state_of(request: Request) -> MockLLMState:
    """The state of the mock app serving ``request``."""
    state = request.app.state.mock_llm
    if not isinstance(state, MockLLMState):
        raise TypeError("this app was not built by create_mock_llm_app")
    return state
