"""Shared CLI plumbing: settings from options, readable configuration errors."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from agenthost.errors import AgentHostError
from agenthost.registry import RegistryError
from agenthost.settings import ConfigError, Settings, load_settings

T = TypeVar("T")


def settings_from(**options: Any) -> Settings:
    """Settings with the given CLI options (those not None) taking precedence."""
    overrides = {key: value for key, value in options.items() if value is not None}
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    # The message may quote user input ("[/x]"): it must not be parsed as console markup.
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


CONFIG_ERRORS = (ConfigError, RegistryError)


def run_or_fail(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end; a configuration error exits 2, an agenthost error 1 (its code
    and message printed)."""
    try:
        return asyncio.run(work)
    except CONFIG_ERRORS as exc:
        fail(str(exc))
    except AgentHostError as exc:
        fail(f"{exc.code.value}: {exc.message}", code=1)
