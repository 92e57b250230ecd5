"""``agenthost run AGENT INPUT``: one run through the same pipeline as the server."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agenthost.cli.common import run_or_fail, settings_from
from agenthost.container import build_container, startup_warnings
from agenthost.execution.types import RunOutcome, RunRequest
from agenthost.security.output import for_terminal
from agenthost.settings import Settings
from agenthost.telemetry.logging import configure_logging
from agenthost.tenancy.auth import operator
from agenthost.tenancy.principal import DEV_TENANT

logger = logging.getLogger(__name__)

AWAITING_APPROVAL_EXIT_CODE = 3
"""``agenthost run`` (and ``runs approve``/``reject``) exit with this when the run stopped at
tool calls that need a decision (decide with ``agenthost runs approve|reject RUN CALL``)."""


async def _run_once(settings: Settings, agent: str, text: str, tenant_id: str) -> RunOutcome:
    container = build_container(settings)
    try:
        await container.start(background=False)
        container.lifecycle.ready = True
        principal = await operator(container.db, tenant_id, dev_mode=settings.dev_mode)
        return await container.pipeline.run(
            RunRequest(agent=agent, input=text, principal=principal)
        )
    finally:
        await container.aclose()


def run_command(
    agent: Annotated[str, typer.Argument(help="Registered agent name.")],
    text: Annotated[str, typer.Argument(metavar="INPUT", help="The user's message.")],
    agents: Annotated[
        str | None, typer.Option(help="module:attribute of the AgentRegistry.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    tenant: Annotated[
        str, typer.Option(help="Tenant whose limits and records the run uses.")
    ] = DEV_TENANT,
) -> None:
    """Run AGENT once on INPUT and print its output and usage (exit code 3: the run awaits
    approval of the tool calls it prints)."""
    settings = settings_from(agents=agents)
    configure_logging(level="WARNING", fmt="console", sensitive=settings.log_sensitive_data)
    for warning in startup_warnings(settings):
        logger.warning(warning)
    report(run_or_fail(_run_once(settings, agent, text, tenant)), as_json=as_json)


def report(outcome: RunOutcome, *, as_json: bool) -> None:
    """Print a run's outcome: its output and usage, or the calls it awaits decisions on
    (then exit with :data:`AWAITING_APPROVAL_EXIT_CODE`)."""
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(outcome), ensure_ascii=False))
    elif outcome.status == "awaiting_approval":
        _print_pending(outcome)
    else:
        _print_output(outcome)
    if outcome.status == "awaiting_approval":
        raise typer.Exit(AWAITING_APPROVAL_EXIT_CODE)


def _print_pending(outcome: RunOutcome) -> None:
    typer.echo(f"run {outcome.run_id} is awaiting approval of:")
    for call in outcome.pending:
        # Model-written arguments: shown plainly, never as console markup.
        typer.echo(for_terminal(f"  {call.call_id}  {call.agent}.{call.tool}({call.arguments})"))
    typer.echo(f"decide with: agenthost runs approve|reject {outcome.run_id} CALL_ID")


def _print_output(outcome: RunOutcome) -> None:
    output = outcome.output
    # Plain echo: model output may look like console markup ("[b]", "[/]") and must not be
    # parsed, nor may its control characters drive the terminal.
    typer.echo(for_terminal(output if isinstance(output, str) else json.dumps(output, indent=2)))
    table = Table("requests", "input tokens", "output tokens", "total tokens", "duration")
    usage = outcome.usage
    table.add_row(
        str(usage.requests),
        str(usage.input_tokens),
        str(usage.output_tokens),
        str(usage.total_tokens),
        f"{outcome.duration_ms:.0f} ms",
    )
    Console(stderr=True).print(table)
