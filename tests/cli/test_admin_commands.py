"""``agenthost tenants ...`` and ``agenthost keys ...`` on the test's own SQLite database."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agenthost.cli.main import app
from tests.api.agents import ToolLog, build_registry
from tests.waiting import eventually


@pytest.fixture(autouse=True)
def _keys_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHOST_DEV_MODE", "false")
    monkeypatch.setenv("AGENTHOST_AGENTS", "tests.cli.serve_agents:registry")


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def flat(text: str) -> str:
    """Rich wraps long lines on stderr; compare with whitespace collapsed."""
    return " ".join(text.split())


def tenants() -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(ok("tenants", "list", "--json").stdout)
    return listed


def test_tenants_create_list_disable_enable() -> None:
    created = json.loads(ok("tenants", "create", "acme", "--runs-per-month", "5", "--json").stdout)
    ok(
        "tenants",
        "create",
        "beta",
        "--name",
        "Beta",
        "--agents",
        "echo",
        "--rate-limit",
        "5/second",
    )
    listed = tenants()
    disabled = ok("tenants", "disable", "acme")
    after_disable = {t["id"]: t["disabled"] for t in tenants()}
    enabled = ok("tenants", "disable", "acme", "--enable")
    table = ok("tenants", "list")
    assert created == [listed[0]] and created[0]["id"] == "acme"
    assert created[0]["runs_per_month"] == 5 and created[0]["disabled"] is False
    assert [t["id"] for t in listed] == ["acme", "beta"]  # no dev tenant: dev mode is off
    beta = listed[1]
    assert (beta["name"], beta["allowed_agents"], beta["rate_limit"]) == (
        "Beta",
        ["echo"],
        "5/second",
    )
    assert disabled.stdout.strip() == "tenant acme disabled"
    assert after_disable == {"acme": True, "beta": False}
    assert enabled.stdout.strip() == "tenant acme enabled"
    assert [t["disabled"] for t in tenants()] == [False, False]
    assert "acme" in table.stdout and "beta" in table.stdout


async def test_keys_made_on_the_command_line_work_over_http(agenthost_client: Any) -> None:
    async def run_cli(*args: str) -> Result:
        # The CLI runs its own event loop, so it gets a thread of its own.
        return await asyncio.to_thread(ok, *args)

    await run_cli("tenants", "create", "acme")
    made = await run_cli("keys", "create", "acme", "--scope", "runs:read", "--json")
    created = json.loads(made.stdout)
    listed = await run_cli("keys", "list", "acme", "--json")
    auth = {"Authorization": f"Bearer {created['key']}"}
    # Another process's changes reach the server within its auth cache's TTL.
    async with agenthost_client(
        build_registry(ToolLog()), dev_mode=False, auth_cache_ttl_s=0.2
    ) as (client, _):

        async def answers(status: int) -> bool:
            return (await client.get("/v1/usage", headers=auth)).status_code == status

        usage = await client.get("/v1/usage", headers=auth)
        run = await client.post("/v1/agents/echo/runs", json={"input": "hi"}, headers=auth)
        await run_cli("tenants", "disable", "acme")
        await eventually(lambda: answers(403))  # disabled
        await run_cli("tenants", "disable", "acme", "--enable")
        await eventually(lambda: answers(200))
        revoked = await run_cli("keys", "revoke", created["id"])
        await eventually(lambda: answers(401))
    assert created["tenant_id"] == "acme" and created["scopes"] == ["runs:read"]
    assert created["key"].startswith(f"ahk_{created['prefix']}_")
    assert usage.status_code == 200 and usage.json()["tenant"] == "acme"
    assert run.status_code == 403  # runs:read only
    assert revoked.stdout.strip() == f"key {created['id']} revoked"
    [entry] = json.loads(listed.stdout)
    assert entry["id"] == created["id"] and entry["prefix"] == created["prefix"]
    assert "key" not in entry and created["key"] not in listed.stdout
    [after] = json.loads((await run_cli("keys", "list", "acme", "--json")).stdout)
    assert after["revoked_at"] is not None


def test_a_new_key_alone_goes_to_stdout() -> None:
    ok("tenants", "create", "acme")
    result = ok("keys", "create", "acme", "--name", "ci", "--expires-in-days", "30")
    [entry] = json.loads(ok("keys", "list", "acme", "--json").stdout)
    assert result.stdout.strip().startswith(f"ahk_{entry['prefix']}_")
    assert len(result.stdout.strip().splitlines()) == 1
    assert "shown only now" in flat(result.stderr)
    assert entry["name"] == "ci" and entry["expires_at"] is not None
    assert sorted(entry["scopes"]) == ["runs:read", "runs:write"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["tenants", "create", "acme", "--runs-per-month", "-1"], "--runs-per-month"),
        (["tenants", "create", "acme", "--tokens-per-run", "0"], "--tokens-per-run"),
        (["tenants", "create", "acme", "--max-concurrent-runs", "0"], "--max-concurrent-runs"),
        (["tenants", "create", "acme", "--rate-limit", "lots"], "--rate-limit"),
        (["tenants", "create", "acme", "--runs-per-month", "many"], "--runs-per-month"),
        (["keys", "create", "acme", "--scope", "root"], "--scope"),
        (["keys", "create", "acme", "--rate-limit", "[/x]"], "--rate-limit"),
        (["keys", "create", "acme", "--expires-in-days", "-1"], "--expires-in-days"),
        (["keys", "create", "acme", "--expires-in-days", "1e12"], "--expires-in-days"),
        (["keys", "create", "acme", "--expires-in-days", "nan"], "--expires-in-days"),
        (["tenants", "bootstrap-operator", "--expires-in-days", "inf"], "--expires-in-days"),
    ],
)
def test_bad_input_exits_2_naming_the_option(args: list[str], option: str) -> None:
    if args[0] == "keys":
        ok("tenants", "create", "acme")
    result = cli(*args)
    assert result.exit_code == 2, result.output
    # The option exactly as typed (not e.g. "--scopes[0]" for --scope).
    assert re.search(rf"{re.escape(option)}(?![\w-])", flat(result.stderr)), result.stderr
    assert isinstance(result.exception, SystemExit), result.exception
    assert [t["id"] for t in tenants()] == (["acme"] if args[0] == "keys" else [])
    if args[0] == "keys":
        assert json.loads(ok("keys", "list", "acme", "--json").stdout) == []


def test_a_bad_tenant_id_is_named_as_it_was_given() -> None:
    result = cli("tenants", "create", "Bad Id")
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert message.startswith("error: invalid input: ID: ")
    assert "[a-z0-9][a-z0-9_-]{0,63}" in message  # shown as is, not eaten as console markup
    assert tenants() == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["tenants", "create", "acme"], "CONFLICT"),
        (["keys", "create", "nobody"], "TENANT_NOT_FOUND"),
        (["keys", "list", "nobody"], "TENANT_NOT_FOUND"),
        (["keys", "revoke", "key_nope"], "KEY_NOT_FOUND"),
        (["tenants", "disable", "nobody"], "TENANT_NOT_FOUND"),
    ],
)
def test_service_errors_exit_1_with_their_code(args: list[str], code: str) -> None:
    ok("tenants", "create", "acme")
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert code in result.stderr


def test_an_unknown_agent_is_refused() -> None:
    result = cli("tenants", "create", "acme", "--agents", "echo,nobody")
    assert result.exit_code != 0
    assert "'nobody'" in flat(result.stderr)
    assert tenants() == []


def test_an_unmigrated_database_names_the_upgrade_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHOST_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = cli("tenants", "list")
    assert result.exit_code == 2
    assert "agenthost db upgrade" in flat(result.stderr)


def test_cli_changes_are_audited_as_cli() -> None:
    ok("tenants", "create", "acme", "--name", "[i]x")
    key_id = json.loads(ok("keys", "create", "acme", "--json").stdout)["id"]
    ok("keys", "revoke", key_id)
    records = json.loads(ok("audit", "--json").stdout)
    assert [(r["action"], r["actor"]) for r in records] == [
        ("key.revoke", "cli"),
        ("key.create", "cli"),
        ("tenant.create", "cli"),
    ]
    table = ok("tenants", "list").stdout
    assert "[i]x" in table  # user input is shown as text, not console markup


def test_operator_tenants_come_from_the_command_line() -> None:
    [ops] = json.loads(ok("tenants", "create", "ops", "--operator", "--json").stdout)
    ok("tenants", "create", "acme")
    operator_key = json.loads(ok("keys", "create", "ops", "--scope", "operator", "--json").stdout)
    refused = cli("keys", "create", "acme", "--scope", "operator")
    assert ops["operator"] is True and operator_key["scopes"] == ["operator"]
    assert refused.exit_code == 1 and "VALIDATION_ERROR" in refused.stderr
    assert "operator tenant" in flat(refused.stderr)
    assert {t["id"]: t["operator"] for t in tenants()} == {"acme": False, "ops": True}


def test_bootstrap_operator_makes_the_tenant_and_a_key_with_every_scope() -> None:
    made = ok("tenants", "bootstrap-operator", "--expires-in-days", "7")
    again = json.loads(ok("tenants", "bootstrap-operator", "--json").stdout)
    ok("tenants", "create", "acme")
    refused = cli("tenants", "bootstrap-operator", "acme")
    keys = json.loads(ok("keys", "list", "ops", "--json").stdout)
    assert made.stdout.strip().startswith("ahk_") and "shown only now" in flat(made.stderr)
    assert {t["id"]: t["operator"] for t in tenants()} == {"acme": False, "ops": True}
    assert again["tenant_id"] == "ops"
    assert again["scopes"] == ["keys:admin", "operator", "runs:read", "runs:write"]
    assert [k["id"] for k in keys][1] == again["id"] and keys[0]["expires_at"] is not None
    assert refused.exit_code == 1 and "CONFLICT" in refused.stderr
    assert "not an operator tenant" in flat(refused.stderr)
    actions = [r["action"] for r in json.loads(ok("audit", "--json").stdout)]
    assert actions == ["tenant.create", "key.create", "key.create", "tenant.create"]


@pytest.mark.parametrize("agents", ["tests.cli.no_such_module:registry", "broken_agents:registry"])
def test_admin_commands_do_not_import_the_agents(
    agents: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Administration opens the database only: it works while the agents cannot be imported,
    and says so when a tenant's settings name agents (which it must then check)."""
    (tmp_path / "broken_agents.py").write_text("raise RuntimeError('agents are broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AGENTHOST_AGENTS", agents)
    ok("tenants", "create", "acme", "--rate-limit", "5/second")
    key_id = json.loads(ok("keys", "create", "acme", "--json").stdout)["id"]
    ok("keys", "list", "acme")
    ok("keys", "revoke", key_id)
    ok("tenants", "disable", "acme")
    ok("tenants", "bootstrap-operator")
    ok("tenants", "list")
    ok("audit")
    named = cli("tenants", "create", "beta", "--agents", "echo")
    assert named.exit_code == 2, named.output
    assert agents.split(":", maxsplit=1)[0] in flat(named.stderr)
    assert [t["id"] for t in tenants()] == ["acme", "ops"]
