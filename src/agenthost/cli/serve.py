"""``agenthost serve``: the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from agenthost.cli.common import CONFIG_ERRORS, fail, settings_from


def serve_command(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes.")] = None,
    agents: Annotated[
        str | None, typer.Option(help="module:attribute of the AgentRegistry to serve.")
    ] = None,
    dev_mode: Annotated[
        bool | None,
        typer.Option(
            "--dev-mode/--no-dev-mode",
            help="No API keys: requests without one act as the 'dev' tenant. Local demos only.",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (defaults from AGENTHOST_* settings)."""
    from agenthost.api.server import serve

    settings = settings_from(
        host=host, port=port, workers=workers, agents=agents, dev_mode=dev_mode
    )
    try:
        serve(settings)
    except CONFIG_ERRORS as exc:
        fail(str(exc))
