"""Configuration of the mock LLM server."""

from __future__ import annotations

from dataclasses import dataclass

FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "hang", "drop", "malformed")
"""Every fault the mock can inject."""


@dataclass(frozen=True)
class MockLLMConfig:
    """How the mock LLM behaves. Every knob has a default that gives a fast, healthy server."""

    latency_ms: int = 0
    """Delay before a response starts (also before the first streamed chunk)."""

    chunk_delay_ms: int = 0
    """Delay between streamed chunks / events."""

    fault_rate: float = 0.0
    """Probability (0..1) that a model request gets a fault from ``fault_kinds``."""

    fault_kinds: tuple[str, ...] = ("503",)
    """Faults drawn (uniformly, with the seeded RNG) when ``fault_rate`` fires."""

    seed: int | None = None
    """Seed of the RNG that decides rate-based faults; None means unseeded."""

    retry_after_s: float = 1.0
    """``Retry-After`` (seconds) sent with 429 faults unless the fault says otherwise."""

    reply_prefix: str = "Mock reply: "
    """Prefix of plain text replies (rule 3 of the brain)."""

    models: tuple[str, ...] = ("mock-gpt",)
    """Model ids listed by ``GET /v1/models`` (any model name is accepted on requests)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], got {self.fault_rate}")
        unknown = [kind for kind in self.fault_kinds if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {list(FAULT_KINDS)}")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        if self.latency_ms < 0 or self.chunk_delay_ms < 0 or self.retry_after_s < 0:
            raise ValueError("latency_ms, chunk_delay_ms and retry_after_s must be >= 0")
