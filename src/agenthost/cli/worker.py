"""``agenthost worker``: execute background runs."""

from __future__ import annotations

from typing import Annotated

import typer

from agenthost.cli.common import CONFIG_ERRORS, fail, settings_from


def worker_command(
    executor_id: Annotated[
        str | None,
        typer.Option(help="This worker's stable identity (default: the host name)."),
    ] = None,
    agents: Annotated[
        str | None, typer.Option(help="module:attribute of the AgentRegistry to serve.")
    ] = None,
) -> None:
    """Execute queued background runs (defaults from AGENTHOST_* settings)."""
    from agenthost.jobs.worker import run_worker

    settings = settings_from(executor_id=executor_id, agents=agents)
    try:
        run_worker(settings)
    except CONFIG_ERRORS as exc:
        fail(str(exc))
