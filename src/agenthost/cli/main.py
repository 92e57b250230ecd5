"""``agenthost`` command line: serve, worker, run, runs, db, tenants, keys, audit, mock-llm."""

from __future__ import annotations

import typer

from agenthost.cli import admin, approvals, db, mock_llm, run, serve, worker

app = typer.Typer(
    name="agenthost",
    help="Run OpenAI Agents SDK agents in production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve_command)
app.command("worker")(worker.worker_command)
app.command("run")(run.run_command)
app.command("mock-llm")(mock_llm.mock_llm_command)
app.add_typer(approvals.app, name="runs")
app.add_typer(db.app, name="db")
app.add_typer(admin.tenants, name="tenants")
app.add_typer(admin.keys, name="keys")
app.command("audit")(admin.audit_command)


def main() -> None:
    app()
