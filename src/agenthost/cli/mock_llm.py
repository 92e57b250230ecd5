"""``agenthost mock-llm``: the OpenAI-compatible mock server for tests, demos and benchmarks."""

from __future__ import annotations

from typing import Annotated

import typer

from agenthost.cli.common import fail


def mock_llm_command(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    latency_ms: Annotated[int, typer.Option(help="Delay before each response starts.")] = 0,
    chunk_delay_ms: Annotated[int, typer.Option(help="Delay between streamed chunks.")] = 0,
    fault_rate: Annotated[float, typer.Option(help="Probability of a fault per request.")] = 0.0,
    fault_kinds: Annotated[
        str, typer.Option(help="Comma-separated: 429,500,503,hang,drop,malformed.")
    ] = "503",
    retry_after: Annotated[float, typer.Option(help="Retry-After seconds of 429 faults.")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Seed for rate-based faults.")] = None,
) -> None:
    """Serve an OpenAI-compatible mock LLM (chat completions and responses, with faults)."""
    from agenthost.testing.mock_llm import MockLLMConfig
    from agenthost.testing.mock_llm.server import run_mock_llm

    try:
        config = MockLLMConfig(
            latency_ms=latency_ms,
            chunk_delay_ms=chunk_delay_ms,
            fault_rate=fault_rate,
            fault_kinds=tuple(k.strip() for k in fault_kinds.split(",") if k.strip()),
            retry_after_s=retry_after,
            seed=seed,
        )
    except ValueError as exc:
        fail(str(exc))
    run_mock_llm(host, port, config)
