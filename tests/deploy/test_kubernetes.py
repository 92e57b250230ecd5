"""deploy/kubernetes: every overlay renders, validates against the Kubernetes schemas, and
keeps the promises of the deployment guide (drain, probes, lock-down, one migration step)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import (
    KUBERNETES,
    OVERLAYS,
    render,
    schema_errors,
    settings_from_environment,
)

Resources = list[dict[str, Any]]
WORKLOADS = ("Deployment", "Job")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, Resources]:
    return request.param, render(KUBERNETES / "overlays" / request.param)


def one(resources: Resources, kind: str, name: str) -> dict[str, Any]:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def pod_specs(resources: Resources) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in resources:
        if resource["kind"] in WORKLOADS:
            yield resource["metadata"]["name"], resource["spec"]["template"]["spec"]


def settings_data(resources: Resources) -> dict[str, str]:
    (config,) = [r for r in resources if r["kind"] == "ConfigMap"]
    data: dict[str, str] = config["data"]
    return data


def test_every_overlay_validates_against_the_schemas(overlay: tuple[str, Resources]) -> None:
    _, resources = overlay
    kinds = {r["kind"] for r in resources}
    expected = {"Deployment", "Job", "Service", "HorizontalPodAutoscaler"}
    assert expected | {"PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= kinds
    assert schema_errors(resources) == []


def test_an_invalid_manifest_fails_validation(tmp_path: Path) -> None:
    """The guide's HPA spelling (`Utilisation`) in a copy of the manifests is caught."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, copy)
    hpa = copy / "base" / "api-hpa.yaml"
    text = hpa.read_text()
    assert "averageUtilization" in text
    hpa.write_text(text.replace("Utilization", "Utilisation"))
    errors = schema_errors(render(copy / "overlays" / "prod"))
    assert errors
    assert all("HorizontalPodAutoscaler/agenthost-api" in e for e in errors)
    assert "'averageUtilisation' was unexpected" in errors[0]


def test_api_pods_drain_before_they_are_killed(overlay: tuple[str, Resources]) -> None:
    _, resources = overlay
    api = one(resources, "Deployment", "agenthost-api")
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    sleep_s = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace_s = float(settings_data(resources)["AGENTHOST_SHUTDOWN_GRACE_S"])
    assert pod["terminationGracePeriodSeconds"] >= sleep_s + grace_s + 5
    affinity = pod["affinity"]["podAntiAffinity"]
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"]


def test_workers_get_their_grace_and_a_stable_identity(overlay: tuple[str, Resources]) -> None:
    _, resources = overlay
    worker = one(resources, "Deployment", "agenthost-worker")
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["worker"]
    grace_s = float(settings_data(resources)["AGENTHOST_SHUTDOWN_GRACE_S"])
    assert pod["terminationGracePeriodSeconds"] >= grace_s + 5
    env = {e["name"]: e for e in container["env"]}
    assert env["AGENTHOST_EXECUTOR_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["AGENTHOST_EXECUTE_BACKGROUND_RUNS"]["value"] == "true"


def test_containers_are_locked_down(overlay: tuple[str, Resources]) -> None:
    _, resources = overlay
    for name, pod in pod_specs(resources):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in empty_dirs, f"{where}: /tmp is not writable"
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert "memory" in container["resources"]["limits"], where


def test_only_the_job_migrates(overlay: tuple[str, Resources]) -> None:
    """Migrations are one step per deploy; replicas only wait for the schema."""
    _, resources = overlay
    job = one(resources, "Job", "agenthost-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    for name, pod in pod_specs(resources):
        if name == "agenthost-migrate":
            continue
        for container in pod.get("initContainers", []) + pod["containers"]:
            command = " ".join(container.get("command", []) + container.get("args", []))
            assert "upgrade" not in command, f"{name}/{container['name']} migrates"
        (init,) = pod["initContainers"]
        assert "agenthost db current" in init["command"][-1]


def test_references_resolve(overlay: tuple[str, Resources]) -> None:
    name, resources = overlay
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    external_secrets = {"agenthost"} if name == "prod" else set()
    pod_labels = []
    for _, pod in pod_specs(resources):
        for container in pod.get("initContainers", []) + pod["containers"]:
            for source in container.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in names
        for volume in pod["volumes"]:
            if "secret" in volume:
                secret = volume["secret"]["secretName"]
                assert ("Secret", secret) in names or secret in external_secrets, secret
    for resource in resources:
        if resource["kind"] == "Deployment":
            pod_labels.append(resource["spec"]["template"]["metadata"]["labels"])
        if resource["kind"] == "HorizontalPodAutoscaler":
            target = resource["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) in names
    for resource in resources:
        if resource["kind"] in ("Service", "PodDisruptionBudget"):
            selector = resource["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            assert any(selector.items() <= labels.items() for labels in pod_labels), selector


def test_the_autoscaler_uses_cpu_and_memory(overlay: tuple[str, Resources]) -> None:
    _, resources = overlay
    hpa = one(resources, "HorizontalPodAutoscaler", "agenthost-api")
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert set(targets) == {"cpu", "memory"}
    assert all(t["type"] == "Utilization" for t in targets.values())
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_the_config_map_is_valid_settings(
    overlay: tuple[str, Resources], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, resources = overlay
    settings = settings_from_environment(monkeypatch, settings_data(resources))
    assert settings.environment == "production"
    assert settings.execute_background_runs is False  # API pods queue, workers execute
    assert settings.database_url.get_secret_value().startswith("file:/run/secrets/agenthost/")


def container_ports(resources: Resources, deployment: str) -> dict[str, int]:
    pod = one(resources, "Deployment", deployment)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def test_metrics_are_served_on_their_own_port_with_a_token(
    overlay: tuple[str, Resources], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/metrics is never on the API's port or Service; every pod serves it on `metrics`."""
    name, resources = overlay
    settings = settings_from_environment(monkeypatch, settings_data(resources))
    port = settings.metrics_listener_port
    assert port is not None and not settings.metrics_on_api_port
    token = settings.metrics_token
    assert token is not None
    reference = token.get_secret_value()
    assert reference == "file:/run/secrets/agenthost/metrics-token"
    for deployment in ("agenthost-api", "agenthost-worker"):
        assert container_ports(resources, deployment)["metrics"] == port, deployment
    api_service = one(resources, "Service", "agenthost-api")
    assert [p["targetPort"] for p in api_service["spec"]["ports"]] == ["http"]
    metrics_service = one(resources, "Service", "agenthost-metrics")
    assert metrics_service["spec"]["clusterIP"] == "None"  # each pod a target of its own
    (metrics_port,) = metrics_service["spec"]["ports"]
    assert metrics_port["targetPort"] == "metrics" and metrics_port["port"] == port
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
    open_ports = {p["port"] for policy in policies for rule in policy["spec"].get("ingress", [])
                  for p in rule["ports"]}  # fmt: skip
    assert open_ports == {"http", "metrics"}
    if name == "dev":  # the generated Secret holds the token the settings name
        (secret,) = [r for r in resources if r["kind"] == "Secret"]
        assert "metrics-token" in secret["data"]


def test_the_service_monitor_scrapes_the_metrics_service_with_the_token() -> None:
    """ServiceMonitor is a CRD, outside Kubernetes' schemas: checked here instead."""
    resources = render(KUBERNETES / "overlays" / "prod")
    monitor = one(resources, "ServiceMonitor", "agenthost")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = one(resources, "Service", "agenthost-metrics")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    api_labels = one(resources, "Service", "agenthost-api")["metadata"]["labels"]
    assert not selector.items() <= api_labels.items()
    ports = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports
        assert endpoint["path"] == "/metrics"
        assert endpoint["authorization"] == {
            "type": "Bearer",
            "credentials": {"name": "agenthost", "key": "metrics-token"},
        }
