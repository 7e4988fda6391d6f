"""The Grafana dashboards and the Prometheus config ask only for metrics the services export.

Exported names come from the real registries: importing each service's metrics module registers its
metrics in prometheus_client's REGISTRY, and each family's type gives the series Prometheus stores
(a counter's `_total`, a histogram's `_bucket`, `_count`, `_sum`)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import controller.metrics
import gateway.metrics
import invoker.metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
    "summary": ("_count", "_sum"),
}
METRIC = re.compile(r"\b(stratus_[a-z0-9_]+)")
MODULES = (gateway.metrics, controller.metrics, invoker.metrics)  # imported for their registrations


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("stratus_"):
            names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def queries(dashboard: dict) -> list[tuple[str, str]]:
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def test_every_component_exports_metrics_under_its_prefix() -> None:
    names = exported()
    for component in ("gateway", "controller", "recorder", "invoker"):
        assert any(n.startswith(f"stratus_{component}_") for n in names), component
    assert {"stratus_gateway_requests_total", "stratus_gateway_request_seconds_bucket",
            "stratus_gateway_requests_in_flight", "stratus_gateway_throttled_total",
            "stratus_controller_place_seconds_bucket", "stratus_controller_queue_depth",
            "stratus_controller_invoker_booked_mb", "stratus_recorder_batch_records_bucket",
            "stratus_recorder_write_seconds_bucket", "stratus_invoker_starts_total"} <= names  # fmt: skip


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_each_dashboard_query_names_only_exported_metrics(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    names = exported()
    found = queries(dashboard)
    assert found, "a dashboard without queries"
    for title, expr in found:
        used = METRIC.findall(expr)
        assert used, f"{path.name} / {title}: no Stratus metric in {expr!r}"
        missing = [n for n in used if n not in names]
        assert not missing, f"{path.name} / {title}: {missing} are not exported"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_each_dashboard_uses_the_provisioned_data_source(path: Path) -> None:
    sources = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uids = {s["uid"] for s in sources["datasources"]}
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"].startswith("Stratus")
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in uids, panel["title"]


def test_prometheus_scrapes_the_gateway_and_discovers_the_rest_through_it() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["stratus-gateway"]["static_configs"][0]["targets"] == ["127.0.0.1:3233"]
    [discovery] = jobs["stratus"]["http_sd_configs"]
    assert discovery["url"].endswith("/api/v1/admin/metrics-targets")


def test_compose_provisions_prometheus_and_grafana_from_the_deploy_folder() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "version" not in compose  # compose v2 warns on it; v1.29 does without
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]  # pulled images: never in the offline stack
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            assert not source.startswith("./") or (ROOT / source).exists(), volume
