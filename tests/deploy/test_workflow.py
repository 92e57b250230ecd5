""".github/workflows/ci.yml: valid for GitHub Actions (its schema, offline), with every job the
deployment guide names, the services the tests need, and the image pushed only on tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import ROOT, check_jsonschema

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def jobs() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return workflow["jobs"]  # type: ignore[no-any-return]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_workflow_validates_against_the_github_workflow_schema() -> None:
    result = check_jsonschema("vendor.github-workflows", WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_invalid_workflow_fails_validation(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "run-on:", 1))
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_every_check_has_its_job(jobs: dict[str, Any]) -> None:
    assert set(jobs) == {"lint", "types", "test", "schemathesis", "manifests", "image"}
    assert "make lint" in runs(jobs["lint"])
    assert "make typecheck" in runs(jobs["types"])
    assert "tests/api/test_openapi_fuzz.py" in runs(jobs["schemathesis"])
    assert "tests/deploy/test_kubernetes.py" in runs(jobs["manifests"])
    services = jobs["test"]["services"]
    assert services["postgres"]["ports"] == ["5432:5432"]
    assert services["redis"]["ports"] == ["6379:6379"]


def test_the_image_is_pushed_only_on_tags_after_every_check(jobs: dict[str, Any]) -> None:
    image = jobs["image"]
    assert set(image["needs"]) == set(jobs) - {"image"}
    (build,) = [s for s in image["steps"] if s.get("uses", "").startswith("docker/build-push")]
    assert build["with"]["file"] == "deploy/docker/Dockerfile"
    assert build["with"]["push"] == "${{ startsWith(github.ref, 'refs/tags/v') }}"
