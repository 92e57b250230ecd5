"""The pipeline's value types."""

from __future__ import annotations

import dataclasses

from agents.usage import Usage

from agenthost.execution.types import RunUsage


def test_usage_as_dict_names_every_count() -> None:
    usage = RunUsage.from_sdk(Usage(requests=2, input_tokens=30, output_tokens=12, total_tokens=42))
    assert usage.as_dict() == dataclasses.asdict(usage)
    assert usage.as_dict() == {
        "requests": 2,
        "input_tokens": 30,
        "output_tokens": 12,
        "total_tokens": 42,
    }
