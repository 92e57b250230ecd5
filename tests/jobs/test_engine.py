"""DBOS's tables are created by ``agenthost db upgrade``, never by a starting process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agenthost.container import build_container
from agenthost.settings import ConfigError, Settings
from tests.api.agents import ToolLog, build_registry


async def test_a_process_refuses_to_start_without_dbos_tables() -> None:
    database = os.environ["AGENTHOST_DATABASE_URL"].removeprefix("sqlite:///")
    Path(database).with_suffix(".dbos.db").unlink()  # as if `db upgrade` predates them
    container = build_container(Settings(background_runs=True), registry=build_registry(ToolLog()))
    try:
        with pytest.raises(ConfigError, match="agenthost db upgrade"):
            await container.start()
    finally:
        await container.aclose()


@pytest.mark.integration
async def test_an_unmigrated_database_is_named_not_crashed_on(postgres_url: str) -> None:
    container = build_container(
        Settings(database_url=postgres_url, background_runs=True),
        registry=build_registry(ToolLog()),
    )
    with pytest.raises(ConfigError, match="agenthost db upgrade"):
        await container.start()
    await container.aclose()  # nothing registered, nothing to undo: no error
