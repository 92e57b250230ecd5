"""Rendering and checking deploy/: the kustomize renderer, the Kubernetes schemas, settings.

A missing renderer skips the Kubernetes tests on a user's machine (saying why); in CI
(``CI=true``) it fails them: CI must validate every manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agenthost.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())
# The oldest Kubernetes we support and the newest schemas kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
# Custom resources have no schema in Kubernetes' own: checked by their own tests.
CUSTOM_KINDS = {"ServiceMonitor"}
MIN_KUSTOMIZE_MAJOR = 4  # components and inline patches


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _kustomize_major(version: str) -> int:
    digits = version.lstrip("v").split(".", 1)[0]
    return int(digits) if digits.isdigit() else 0


def kustomize_command() -> list[str]:
    """``kustomize build``, or ``kubectl kustomize`` when kubectl embeds a recent kustomize."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    reason = "neither kustomize nor kubectl is installed"
    if shutil.which("kubectl"):
        out = subprocess.run(
            ["kubectl", "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = json.loads(out.stdout or "{}").get("kustomizeVersion", "")
        if _kustomize_major(version) >= MIN_KUSTOMIZE_MAJOR:
            return ["kubectl", "kustomize"]
        reason = f"kubectl embeds kustomize {version or 'unknown'}, older than v4"
    reason += "; install kustomize v4+ (or kubectl 1.21+) to render deploy/kubernetes"
    if in_ci():
        pytest.fail(f"CI must validate the Kubernetes manifests: {reason}")
    pytest.skip(reason)


def render(directory: Path) -> list[dict[str, Any]]:
    """The resources kustomize renders from ``directory``."""
    result = subprocess.run(
        [*kustomize_command(), str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize failed on {directory}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def schema_errors(resources: list[dict[str, Any]]) -> list[str]:
    """Every resource that does not validate, strictly (unknown fields are errors), against
    each supported Kubernetes version's schemas."""
    errors = []
    for resource in resources:
        if resource["kind"] in CUSTOM_KINDS:
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(resource, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                name = f"{resource['kind']}/{resource['metadata']['name']}"
                errors.append(f"{name} (Kubernetes {version}): {exc.message}")
    return errors


def settings_from_environment(
    monkeypatch: pytest.MonkeyPatch, environment: Mapping[str, str]
) -> Settings:
    """Settings as a process with exactly these ``AGENTHOST_*`` variables would load them."""
    for name in os.environ:
        if name.startswith((ENV_PREFIX, "OPENAI_")):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return load_settings()


def check_jsonschema(builtin_schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """``check-jsonschema`` with one of the schemas it ships (validated offline)."""
    executable = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(executable), "--builtin-schema", builtin_schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
