"""``python -m agenthost.testing.mock_llm`` — serve the mock LLM (used by ``MockLLMServer``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .config import MockLLMConfig
from .server import READY_LINE, run_mock_llm


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = MockLLMConfig()
    parser = argparse.ArgumentParser(
        prog="python -m agenthost.testing.mock_llm",
        description="OpenAI-compatible mock LLM with fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=int, default=defaults.latency_ms)
    parser.add_argument("--chunk-delay-ms", type=int, default=defaults.chunk_delay_ms)
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate)
    parser.add_argument(
        "--fault-kinds",
        type=_csv,
        default=defaults.fault_kinds,
        help="comma-separated, e.g. 429,503",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--retry-after", type=float, default=defaults.retry_after_s)
    parser.add_argument("--reply-prefix", default=defaults.reply_prefix)
    parser.add_argument("--models", type=_csv, default=defaults.models, help="comma-separated ids")
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> MockLLMConfig:
    return MockLLMConfig(
        latency_ms=args.latency_ms,
        chunk_delay_ms=args.chunk_delay_ms,
        fault_rate=args.fault_rate,
        fault_kinds=args.fault_kinds,
        seed=args.seed,
        retry_after_s=args.retry_after,
        reply_prefix=args.reply_prefix,
        models=args.models,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = config_from_args(args)

    def announce(port: int) -> None:
        print(READY_LINE.format(host=args.host, port=port), flush=True)

    run_mock_llm(args.host, args.port, config, log_level=args.log_level, on_bound=announce)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
