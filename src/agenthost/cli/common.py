"""Shared CLI plumbing: settings from options, readable configuration errors."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from agenthost.registry import RegistryError
from agenthost.settings import ConfigError, Settings, load_settings


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
