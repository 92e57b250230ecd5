"""The current run's token budget, and the ``Model`` wrapper that caps ``max_tokens`` to it.

The pipeline publishes a budget for runs whose tenant limits tokens per run; each model call
then asks for at most the tokens the run has left (a ``max_tokens`` the agent set is lowered;
one it did not set is only added once the run has little left). The run is also stopped once
its usage crosses the limit: a call's input tokens cannot be capped, only its output.

Budgets and usage records need every call's usage, so every call also asks for it
(``include_usage``): Chat Completions endpoints other than OpenAI's only report usage on
streams when asked to. (Set here rather than in the RunConfig's model settings, which the SDK
merges into the agent's on every turn at a cost of about a tenth of a millisecond.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from agents import ModelSettings
from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.usage import Usage

MODEL_SETTINGS_POSITION = 2
UNCAPPED_ABOVE = 4096
"""Calls that set no ``max_tokens`` are left alone while the run has more than this left: a
larger value may exceed what the model allows (and reasoning models refuse ``max_tokens``)."""


@dataclass(frozen=True, slots=True)
class TokenBudget:
    limit: int
    usage: Usage
    """The run's running total, updated after each model call."""

    @property
    def remaining(self) -> int:
        return max(1, self.limit - self.usage.total_tokens)


_budget: ContextVar[TokenBudget | None] = ContextVar("agenthost_token_budget", default=None)


@contextmanager
def token_budget(limit: int | None, usage: Usage) -> Iterator[None]:
    """Publish the budget to model calls made (or tasks created) inside the block."""
    if limit is None:
        yield
        return
    token = _budget.set(TokenBudget(limit, usage))
    try:
        yield
    finally:
        _budget.reset(token)


def capped(settings: ModelSettings) -> ModelSettings:
    """``settings`` asking for usage, and for no more output tokens than the budget has left."""
    if settings.include_usage is not True:
        settings = replace(settings, include_usage=True)
    budget = _budget.get()
    if budget is None:
        return settings
    cap = budget.remaining
    if settings.max_tokens is None and cap > UNCAPPED_ABOVE:
        return settings
    if settings.max_tokens is not None and settings.max_tokens <= cap:
        return settings
    return settings.resolve(ModelSettings(max_tokens=cap))


def _with_cap(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    if "model_settings" in kwargs:
        kwargs["model_settings"] = capped(kwargs["model_settings"])
        return args
    if len(args) > MODEL_SETTINGS_POSITION:
        listed = list(args)
        listed[MODEL_SETTINGS_POSITION] = capped(listed[MODEL_SETTINGS_POSITION])
        return tuple(listed)
    return args


class BudgetModel(Model):
    """Caps each call's ``max_tokens`` to what the current run's token budget has left, and
    asks for the call's usage."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        args = _with_cap(args, kwargs)
        return await self.inner.get_response(*args, **kwargs)

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        args = _with_cap(args, kwargs)
        async for event in self.inner.stream_response(*args, **kwargs):
            yield event

    async def close(self) -> None:
        await self.inner.close()
