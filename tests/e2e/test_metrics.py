"""Every service's /metrics on a running platform: the gateway (both the invoke fast path and the app),
the controller (placement, queue, load; summed into the API's /metrics in standalone), the recorder and
the invoker, found as Prometheus finds them (GET /api/v1/admin/metrics-targets)."""

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import INVOKE_ROUTE
from tests.e2e.conftest import Platform
from tests.e2e.test_invoke import HELLO, put_action, unique, wait_record

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=10, trust_env=False)
    answer.raise_for_status()
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def test_each_service_counts_what_it_did(platform: Platform) -> None:
    with platform.client() as client:
        name = unique("metered")
        put_action(client, name, HELLO).raise_for_status()
        before = scrape(f"{platform.url}/metrics")
        invoked = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={"name": "m"})
        assert invoked.status_code == 200, invoked.text
        wait_record(client, invoked.json()["activationId"])
        assert client.get(f"/api/v1/namespaces/_/actions/{name}").status_code == 200
        assert client.get("/api/v1/namespaces/_/actions/no-such-action").status_code == 404
        after = scrape(f"{platform.url}/metrics")

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "stratus_gateway_requests_total"
    assert grew(requests, route=INVOKE_ROUTE, method="POST", status="200") == 1  # the fast path's
    assert grew(requests, route=INVOKE_ROUTE, method="GET", status="200") == 1  # the app's
    assert grew(requests, route=INVOKE_ROUTE, method="GET", status="404") == 1
    assert grew("stratus_gateway_request_seconds_count", route=INVOKE_ROUTE, method="POST") == 1
    assert value(after, "stratus_gateway_requests_in_flight") == 1  # the scrape itself
    assert grew("stratus_gateway_invocations_total", placed_by="gateway") == 1  # placed by the API, no controller
    assert grew("stratus_recorder_records_total") >= 1 and grew("stratus_recorder_batch_records_count") >= 1

    admin = {"authorization": f"Bearer {platform.admin_key}"}
    for _ in range(100):  # the controller advertises its /metrics every few seconds
        targets = httpx.get(f"{platform.url}/api/v1/admin/metrics-targets", headers=admin, trust_env=False).json()
        if {t["labels"]["component"] for t in targets} == {"invoker", "controller"}:
            break
        time.sleep(0.1)
    by_component = {t["labels"]["component"]: t["targets"][0] for t in targets}
    invoker = scrape(f"http://{by_component['invoker']}/metrics")
    assert value(invoker, "stratus_invoker_starts_total") >= 1
    assert value(invoker, "stratus_invoker_memory_mb", kind="budget") > 0
    for _ in range(120):  # the controller reads its gauges every 5 s: the first read may precede the invoker
        controller = scrape(f"http://{by_component['controller']}/metrics")
        if value(controller, "stratus_controller_invokers", state="healthy") == 1:
            break
        time.sleep(0.1)
    assert value(controller, "stratus_controller_invokers", state="healthy") == 1
    assert value(controller, "stratus_controller_invoker_capacity_mb") > 0
    assert "stratus_controller_queue_depth" in controller
