"""The token budget caps each model call's ``max_tokens`` to what the run has left."""

from __future__ import annotations

from typing import Any

from agents import ModelSettings
from agents.models.interface import ModelTracing
from agents.testing import ScriptedModel, assistant_message
from agents.usage import Usage

from agenthost.models.budget import BudgetModel, token_budget


async def _call(model: BudgetModel, settings: ModelSettings, *, positional: bool = False) -> None:
    args: list[Any] = [None, "hi", settings, [], None, [], ModelTracing.DISABLED]
    extra = {"previous_response_id": None, "conversation_id": None, "prompt": None}
    if positional:
        await model.get_response(*args, **extra)
    else:
        names = ["system_instructions", "input", "model_settings", "tools", "output_schema",
                 "handoffs", "tracing"]  # fmt: skip
        await model.get_response(**dict(zip(names, args, strict=True)), **extra)


def _sent(inner: ScriptedModel) -> list[int | None]:
    return [call.model_settings.max_tokens for call in inner.calls]


async def test_calls_outside_a_budget_keep_their_limits() -> None:
    inner = ScriptedModel([[assistant_message("a")]])
    await _call(BudgetModel(inner), ModelSettings(max_tokens=900, temperature=0.2))
    assert _sent(inner) == [900]
    assert inner.calls[0].model_settings.temperature == 0.2


async def test_every_call_asks_for_its_usage() -> None:
    """Usage records and budgets need it; streams of most endpoints only report it if asked."""
    inner = ScriptedModel([[assistant_message(x)] for x in "ab"])
    model = BudgetModel(inner)
    await _call(model, ModelSettings(include_usage=False, temperature=0.3))
    with token_budget(100, Usage()):
        await _call(model, ModelSettings())
    assert [call.model_settings.include_usage for call in inner.calls] == [True, True]
    assert inner.calls[0].model_settings.temperature == 0.3


async def test_max_tokens_is_capped_to_what_the_run_has_left() -> None:
    inner = ScriptedModel([[assistant_message(x)] for x in "abcd"])
    model = BudgetModel(inner)
    usage = Usage(requests=1, input_tokens=20, output_tokens=10, total_tokens=30)
    with token_budget(100, usage):
        await _call(model, ModelSettings(temperature=0.5))  # unset → capped
        await _call(model, ModelSettings(max_tokens=20))  # already lower → kept
        await _call(model, ModelSettings(max_tokens=500), positional=True)  # higher → capped
        usage.add(Usage(requests=1, input_tokens=60, output_tokens=40, total_tokens=100))
        await _call(model, ModelSettings())  # over the limit: never asks for less than 1
    assert _sent(inner) == [70, 20, 70, 1]
    assert inner.calls[0].model_settings.temperature == 0.5


async def test_a_large_budget_adds_no_max_tokens_the_agent_did_not_set() -> None:
    inner = ScriptedModel([[assistant_message(x)] for x in "ab"])
    with token_budget(100_000, Usage()):
        await _call(BudgetModel(inner), ModelSettings())
        await _call(BudgetModel(inner), ModelSettings(max_tokens=200_000))
    assert _sent(inner) == [None, 100_000]


async def test_no_limit_means_no_budget() -> None:
    inner = ScriptedModel([[assistant_message("a")]])
    with token_budget(None, Usage()):
        await _call(BudgetModel(inner), ModelSettings())
    assert _sent(inner) == [None]
