"""``agenthost db upgrade|current``, and ``serve`` refusing an unmigrated database."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agenthost.cli.main import app
from agenthost.store.migrate import head_revision

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AGENTHOST_DATABASE_URL names a SQLite file that does not exist yet."""
    path = tmp_path / "nested" / "fresh.db"
    monkeypatch.setenv("AGENTHOST_DATABASE_URL", f"sqlite:///{path}")
    return path


def test_upgrade_then_current(fresh_db: Path) -> None:
    head = head_revision()
    empty = CliRunner().invoke(app, ["db", "current"])
    upgraded = CliRunner().invoke(app, ["db", "upgrade"])
    again = CliRunner().invoke(app, ["db", "upgrade"])
    current = CliRunner().invoke(app, ["db", "current"])
    assert empty.exit_code == 1, empty.output
    assert f"database: empty; this version: {head}" in empty.stdout
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database upgraded from empty to {head}" in upgraded.stdout
    assert again.exit_code == 0 and f"database already at revision {head}" in again.stdout
    assert current.exit_code == 0, current.output
    assert f"database: {head}; this version: {head}" in current.stdout
    assert fresh_db.is_file()


def test_current_on_an_empty_file_exits_1(fresh_db: Path) -> None:
    fresh_db.parent.mkdir(parents=True)
    fresh_db.touch()
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 1
    assert "database: empty" in result.stdout


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@localhost/db", "unsupported database 'mysql'"),
        ("sqlite:///:memory:", "SQLite needs a file path"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_database_urls_exit_2(monkeypatch: pytest.MonkeyPatch, url: str, message: str) -> None:
    monkeypatch.setenv("AGENTHOST_DATABASE_URL", url)
    for command in (["db", "upgrade"], ["db", "current"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert message in " ".join(result.stderr.split())
        assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_refuses_an_unmigrated_database(fresh_db: Path) -> None:
    env = {
        **os.environ,
        "AGENTHOST_AGENTS": "tests.cli.serve_agents:registry",
        "AGENTHOST_DEV_MODE": "false",
    }
    # A real process: the exit status is what a deploy script or orchestrator sees.
    command = [sys.executable, "-m", "agenthost", "serve", f"--port={_free_port()}"]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    stderr = " ".join(result.stderr.split())
    assert result.returncode != 0
    assert "has no agenthost schema" in stderr and "agenthost db upgrade" in stderr
    assert "Traceback" not in result.stderr


def test_a_revision_this_version_does_not_know_is_refused(fresh_db: Path) -> None:
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    with sqlite3.connect(fresh_db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff'")
    current = CliRunner().invoke(app, ["db", "current"])
    assert current.exit_code == 1 and "database: ffff" in current.stdout
    result = CliRunner().invoke(app, ["tenants", "list"])
    assert result.exit_code == 2
    assert "does not know" in " ".join(result.stderr.split())
