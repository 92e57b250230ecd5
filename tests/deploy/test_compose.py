"""deploy/compose: the compose file validates against the Compose specification's schema, and
its services fit together (migrations first, settings valid, every mounted file present)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.tools import DEPLOY, check_jsonschema, settings_from_environment

COMPOSE_DIR = DEPLOY / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
AGENTHOST_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return compose["services"]  # type: ignore[no-any-return]


def test_the_compose_file_validates_against_the_compose_schema() -> None:
    result = check_jsonschema("vendor.compose-spec", COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_invalid_compose_file_fails_validation(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace("stop_grace_period:", "stop_grace:"))
    result = check_jsonschema("vendor.compose-spec", broken)
    assert result.returncode != 0
    assert "stop_grace" in result.stdout


def test_the_stack_has_every_part(services: dict[str, Any]) -> None:
    expected = {"postgres", "redis", "otel-collector", "jaeger", "prometheus", "grafana"}
    assert {*AGENTHOST_SERVICES, *expected} == set(services)
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned {image}"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_migrations_run_once_before_the_api_and_the_worker(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "upgrade" not in services[name]["command"]


def test_agenthost_services_run_read_only_with_valid_settings(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AGENTHOST_SERVICES:
        service = services[name]
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"], name
        environment = {
            k: v for k, v in service["environment"].items() if k.startswith("AGENTHOST_")
        }
        settings = settings_from_environment(monkeypatch, environment)
        grace_s = int(service["stop_grace_period"].removesuffix("s"))
        assert grace_s >= settings.shutdown_grace_s + 5, name
        endpoint = urlsplit(settings.otlp_endpoint or "")
        assert endpoint.hostname in services, name
    assert services["api"]["environment"]["AGENTHOST_EXECUTE_BACKGROUND_RUNS"] == "false"
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["healthcheck"] == {"disable": True}  # no HTTP port


def test_mounted_configuration_exists_and_points_at_the_stack(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source} is missing"
    collector = yaml.safe_load((COMPOSE_DIR / "otel-collector.yaml").read_text())
    pipeline = collector["service"]["pipelines"]["traces"]
    assert set(pipeline["receivers"]) <= set(collector["receivers"])
    assert set(pipeline["exporters"]) <= set(collector["exporters"])
    for exporter in collector["exporters"].values():
        assert exporter["endpoint"].split(":")[0] in services
    dashboards = [v for v in services["grafana"]["volumes"] if "dashboard" in v]
    assert dashboards == [
        "../grafana/agenthost-dashboard.json:/var/lib/grafana/dashboards/agenthost.json:ro"
    ]


def test_prometheus_scrapes_the_metrics_ports_with_the_token(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/metrics is on the metrics listener (never published), and asks for the token."""
    scrape = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    (job,) = scrape["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    (workers,) = job["dns_sd_configs"]
    for name, where in (("api", target), ("worker", f"{workers['names'][0]}:{workers['port']}")):
        service = services[name]
        environment = {
            k: v for k, v in service["environment"].items() if k.startswith("AGENTHOST_")
        }
        settings = settings_from_environment(monkeypatch, environment)
        assert where == f"{name}:{settings.metrics_listener_port}", name
        assert not settings.metrics_on_api_port, name
        token = settings.metrics_token
        assert token is not None and job["authorization"]["credentials"] == token.get_secret_value()
        published = [p.split(":")[-1] for p in service.get("ports", [])]
        assert str(settings.metrics_listener_port) not in published, name
