"""``agenthost runs approve|reject RUN CALL``: decide a tool call a run awaits approval of.

The decision goes through the same service as ``POST /v1/runs/{id}/approvals``. Once every
call of the run is decided it continues here, the way it started (a background run is queued
for the server's or a worker's executing process), and its outcome is printed as by
``agenthost run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from agenthost.cli.common import run_or_fail, settings_from
from agenthost.cli.run import AWAITING_APPROVAL_EXIT_CODE, report
from agenthost.container import build_container
from agenthost.execution.types import Decision, RunOutcome
from agenthost.security.output import for_terminal
from agenthost.settings import Settings
from agenthost.telemetry.logging import configure_logging
from agenthost.tenancy.auth import operator
from agenthost.tenancy.principal import DEV_TENANT

app = typer.Typer(help="Decide tool calls that runs await approval of.", no_args_is_help=True)
RunArg = Annotated[str, typer.Argument(metavar="RUN", help="The run's id.")]
CallArg = Annotated[str, typer.Argument(metavar="CALL", help="The pending call's id.")]
AgentsOpt = Annotated[str | None, typer.Option(help="module:attribute of the AgentRegistry.")]
TenantOpt = Annotated[str, typer.Option(help="The run's tenant.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@dataclass(frozen=True, slots=True)
class _Result:
    """The run's outcome if it continued here; else what to say (``waiting``: calls are
    still undecided)."""

    outcome: RunOutcome | None = None
    message: str = ""
    waiting: bool = False


async def _decide(settings: Settings, tenant_id: str, run_id: str, decision: Decision) -> _Result:
    """Decide; then continue the run if that was its last call."""
    container = build_container(settings)
    try:
        await container.start(background=settings.background_runs)
        container.lifecycle.ready = True
        principal = await operator(container.db, tenant_id)
        decided = await container.approvals.decide(
            principal,
            run_id,
            [decision],
            decided_by="cli",
            can_queue=container.background is not None,
        )
        state = decided.state
        if state is None:
            left = ", ".join(call.call_id for call in decided.pending)
            return _Result(message=f"run {run_id} still awaits approval of: {left}", waiting=True)
        if state.mode == "background":
            await container.background_runs().continue_run(state)
            return _Result(message=f"run {run_id} continues in the background")
        return _Result(outcome=await container.pipeline.run_continued(state))
    finally:
        await container.aclose()


def _command(
    decision: Decision, run_id: str, agents: str | None, tenant: str, as_json: bool
) -> None:
    # It only queues a background continuation, never executes one: no executor of its own,
    # so it runs beside `agenthost serve` on the same database and executor id.
    settings = settings_from(agents=agents, execute_background_runs=False)
    configure_logging(level="WARNING", fmt="console", sensitive=settings.log_sensitive_data)
    result = run_or_fail(_decide(settings, tenant, run_id, decision))
    if result.outcome is not None:
        report(result.outcome, as_json=as_json)
        return
    typer.echo(for_terminal(result.message))
    if result.waiting:
        raise typer.Exit(AWAITING_APPROVAL_EXIT_CODE)


@app.command("approve")
def approve_command(
    run_id: RunArg,
    call_id: CallArg,
    agents: AgentsOpt = None,
    tenant: TenantOpt = DEV_TENANT,
    as_json: JsonOpt = False,
) -> None:
    """Approve CALL of RUN: it runs when the run continues."""
    _command(Decision(call_id, True), run_id, agents, tenant, as_json)


@app.command("reject")
def reject_command(
    run_id: RunArg,
    call_id: CallArg,
    message: Annotated[
        str | None, typer.Option(help="The reason, sent to the model as the call's result.")
    ] = None,
    agents: AgentsOpt = None,
    tenant: TenantOpt = DEV_TENANT,
    as_json: JsonOpt = False,
) -> None:
    """Reject CALL of RUN (the model is told, with --message as the reason)."""
    _command(Decision(call_id, False, message), run_id, agents, tenant, as_json)
