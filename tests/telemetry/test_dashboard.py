"""deploy/: every metric the Grafana dashboard and the scrape config use exists in ``/metrics``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from agenthost.registry import load_registry

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "agenthost-dashboard.json"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
METRIC_NAME = re.compile(r"\bagenthost_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def queries(node: Any) -> Iterator[str]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def exposed_names(text: str) -> set[str]:
    """Names a query may use: every sample name, also of metrics with no sample yet."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


async def test_every_dashboard_metric_is_exported(agenthost_client: Callable[..., Any]) -> None:
    registry = load_registry("examples.registry:registry")
    async with agenthost_client(registry, metrics_public=True) as (client, _):
        run = await client.post("/v1/agents/weather/runs", json={"input": "Paris?"})
        scraped = await client.get("/metrics")
    assert run.status_code == 200
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    exposed = exposed_names(scraped.text)
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = list(queries(dashboard))
    used = {name for expr in expressions for name in METRIC_NAME.findall(expr)}
    assert len(expressions) > 20 and len(used) > 15
    assert sorted(used - exposed) == []


def test_the_scrape_config_scrapes_metrics() -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]


async def test_metrics_can_be_turned_off(agenthost_client: Callable[..., Any]) -> None:
    registry = load_registry("examples.registry:registry")
    async with agenthost_client(registry, metrics_enabled=False) as (client, _):
        scraped = await client.get("/metrics")
    assert scraped.status_code == 404
