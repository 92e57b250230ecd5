"""deploy/docker/Dockerfile: multi-stage from the hashed lock file, unprivileged, an init
process, a Python health check that really tells a live server from a dead one, no secrets.

There is no Docker engine here: the image's install steps are exercised by the wheel test
(fresh virtual environment from the built wheel), these tests check the rest."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.deploy.tools import DEPLOY, ROOT
from tests.processes import Servers, wait_ready

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
LOCK_FILE = ROOT / "requirements.lock"
IMAGE_EXTRAS = ("vault", "aws", "otlp-grpc")
SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL|REDIS_URL", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    parsed = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def healthcheck_command() -> list[str]:
    (arguments,) = [a for k, a in final_stage() if k == "HEALTHCHECK"]
    command: list[str] = json.loads(arguments.split("CMD", 1)[1])
    return command


def test_the_image_is_multi_stage_and_installs_the_lock_file() -> None:
    steps = instructions()
    stages = [a for k, a in steps if k == "FROM"]
    assert len(stages) >= 2 and stages[0].endswith(" AS build")
    runs = " ".join(a for k, a in steps if k == "RUN")
    assert "--require-hashes --no-deps -r requirements.lock" in runs
    assert "pip check" in runs
    assert ("COPY", "--from=build /opt/agenthost /opt/agenthost") in final_stage()


def test_the_runtime_is_unprivileged_with_an_init_process() -> None:
    stage = final_stage()
    (user,) = [a for k, a in stage if k == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    (entrypoint,) = [json.loads(a) for k, a in stage if k == "ENTRYPOINT"]
    assert entrypoint[:2] == ["tini", "--"]
    assert "HOME=/tmp" in " ".join(a for k, a in stage if k == "ENV")


def test_no_secret_is_baked_in_and_no_curl_is_needed() -> None:
    for keyword, arguments in instructions():
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Z_][A-Z0-9_]*)=", arguments)
            assert not [n for n in names if SECRET_NAME.search(n)], arguments
    assert not re.search(r"\b(curl|wget)\b", DOCKERFILE.read_text().split("HEALTHCHECK")[1])
    assert healthcheck_command()[0] == "python"


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    for keyword, arguments in instructions():
        if keyword == "COPY" and not arguments.startswith("--from"):
            *sources, _ = arguments.split()
            for source in sources:
                assert source in included, f"{source} is excluded from the build context"
                assert (ROOT / source).exists(), source


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in IMAGE_EXTRAS:
        wanted += project["optional-dependencies"][extra]
    lock = LOCK_FILE.read_text()
    locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    locked = {name.lower().replace("_", "-"): version for name, version in locked.items()}
    for requirement in wanted:
        name, version = re.sub(r"\[.*\]", "", requirement).split("==")
        assert locked.get(name.lower()) == version, f"{requirement} is not locked"
    entries = re.split(r"^(?=[A-Za-z0-9])", lock, flags=re.MULTILINE)[1:]
    assert all("--hash=sha256:" in entry for entry in entries)


def run_healthcheck(port: int) -> int:
    """The image's HEALTHCHECK command, with this interpreter as ``python``."""
    _, *arguments = healthcheck_command()
    env = {**os.environ, "AGENTHOST_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *arguments], env=env, capture_output=True, timeout=30, check=False
    ).returncode


@pytest.mark.integration
async def test_the_health_check_tells_a_live_server_from_a_stopped_one(
    servers: Servers,
) -> None:
    process, url = servers.start()
    port = urlsplit(url).port
    assert port is not None
    async with httpx2.AsyncClient(base_url=url, timeout=10) as client:
        await wait_ready(client, process)
    assert await asyncio.to_thread(run_healthcheck, port) == 0
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 60) == 0
    assert await asyncio.to_thread(run_healthcheck, port) != 0
