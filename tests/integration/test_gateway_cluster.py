"""The gateway's cluster routes on real Redis: per-namespace throttles (429), the admin invoker listing, and
placing what it accepts on an invoker itself."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from core.backends import open_core
from core.config import GatewaySettings
from core.ids import ControllerId, InvokerId
from core.ledger import inflight_key
from core.messages import (
    INVOCATIONS,
    INVOKERS_KEY,
    METRICS_TARGETS,
    Dispatch,
    Heartbeat,
    Invocation,
    MetricsTarget,
    invoker_stream,
)
from core.models import NamespaceLimits
from core.namespaces import create_namespace, set_limits
from gateway.app import create_app
from gateway.deps import Backends, backends_from_core
from tests.conftest import require_service

ADMIN_KEY = "s3cret-admin"
CODE = "def main(args):\n    return args\n"


class Cluster:
    def __init__(
        self, client: httpx.AsyncClient, keys: dict[str, str], redis_client: "aioredis.Redis", backends: Backends
    ) -> None:
        self.client = client
        self.keys = keys
        self.redis = redis_client
        self.backends = backends

    async def call(self, method: str, ns: str, path: str, **kwargs: Any) -> httpx.Response:
        uuid, _, secret = self.keys[ns].partition(":")
        return await self.client.request(method, f"/api/v1/namespaces/_/{path}", auth=(uuid, secret), **kwargs)

    async def invoke(self, ns: str) -> httpx.Response:
        return await self.call("POST", ns, "actions/echo")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    redis_url = require_service("STRATUS_REDIS_URL").rsplit("/", 1)[0] + "/13"
    mongo_url = require_service("STRATUS_MONGO_URL")
    raw = aioredis.Redis.from_url(redis_url)
    await raw.flushdb()
    settings = GatewaySettings(
        gateway_id="gw-cluster-test",
        redis_url=redis_url,
        mongo_url=mongo_url,
        mongo_db=f"t_{tmp_path.name[-12:]}",
        entities_url=f"sqlite+aiosqlite:///{tmp_path / 'entities.db'}",
        admin_key=ADMIN_KEY,
        blocking_wait_s=1,
    )
    keys: dict[str, str] = {}

    @asynccontextmanager
    async def open_backends() -> AsyncIterator[Backends]:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            for name, limits in {
                "few": NamespaceLimits(concurrent_invocations=2),
                "slow": NamespaceLimits(invocations_per_minute=3),
                "free": NamespaceLimits(),
            }.items():
                keys[name] = await create_namespace(core.entities, name)
                await set_limits(core.entities, name, limits)
            yield backends_from_core(settings, core)

    app = create_app(open_backends)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            found = Cluster(client, keys, raw, app.state.backends)
            body = {"exec": {"kind": "python:3.11", "code": CODE}}
            for ns in keys:
                assert (await found.call("PUT", ns, "actions/echo", json=body)).is_success
            yield found
    await raw.flushdb()
    await raw.aclose()


def throttled(throttle: str) -> float:
    return REGISTRY.get_sample_value("stratus_gateway_throttled_total", {"throttle": throttle}) or 0.0


async def test_concurrent_invocations_over_the_namespace_limit_get_429(cluster: Cluster) -> None:
    accepted = [await cluster.invoke("few") for _ in range(2)]
    assert [r.status_code for r in accepted] == [202, 202]
    before = throttled("concurrent")
    refused = await cluster.invoke("few")
    assert refused.status_code == 429 and throttled("concurrent") == before + 1
    assert refused.json()["error"] == "Too many concurrent requests in flight (count: 2, allowed: 2)."
    assert "code" in refused.json()
    assert (await cluster.invoke("free")).status_code == 202  # another namespace is not affected
    await cluster.redis.zrem(inflight_key("few"), accepted[0].json()["activationId"])  # as a controller on completion
    assert (await cluster.invoke("few")).status_code == 202


async def test_invocations_per_minute_over_the_namespace_limit_get_429(cluster: Cluster) -> None:
    if time.time() % 60 > 55:  # the count is per wall-clock minute: do not straddle two
        await asyncio.sleep(60 - time.time() % 60 + 0.1)
    assert [(await cluster.invoke("slow")).status_code for _ in range(3)] == [202] * 3
    before = throttled("per-minute")
    refused = await cluster.invoke("slow")
    assert refused.status_code == 429 and throttled("per-minute") == before + 1
    assert refused.json()["error"] == "Too many requests in the last minute (count: 4, allowed: 3)."


async def test_admin_invokers_lists_state_load_and_warm_pools_behind_the_admin_key(cluster: Cluster) -> None:
    now = int(time.time() * 1000)
    beats = [
        Heartbeat(invoker_id=InvokerId("i-a"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=256, containers=2,
                  pool={"idle": 1, "busy": 1}, warm={"few/echo": 1}),
        Heartbeat(invoker_id=InvokerId("i-b"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=0, containers=0,
                  failing="the container engine is unreachable"),
        Heartbeat(invoker_id=InvokerId("i-c"), sent_ms=now - 60_000, user_memory_mb=1024, busy_memory_mb=0,
                  containers=0),
    ]  # fmt: skip
    for beat in beats:
        await cluster.redis.hset(INVOKERS_KEY, beat.invoker_id, beat.model_dump_json())
    await cluster.redis.hset("stratus:slots:i-a", "mem", 512)
    assert (await cluster.client.get("/api/v1/admin/invokers")).status_code == 401
    wrong = await cluster.client.get("/api/v1/admin/invokers", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "error" in wrong.json()
    listed = await cluster.client.get("/api/v1/admin/invokers", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert listed.status_code == 200
    rows = {row["invoker"]: row for row in listed.json()}
    assert {i: r["state"] for i, r in rows.items()} == {"i-a": "healthy", "i-b": "unhealthy", "i-c": "offline"}
    assert rows["i-a"]["load"] == 0.5 and rows["i-a"]["bookedMemoryMB"] == 512
    assert rows["i-a"]["warm"] == {"few/echo": 1} and rows["i-a"]["pool"] == {"idle": 1, "busy": 1}
    assert rows["i-b"]["reason"] == "the container engine is unreachable"


async def test_admin_metrics_targets_are_prometheus_service_discovery_of_live_invokers(cluster: Cluster) -> None:
    now = int(time.time() * 1000)
    beats = [
        Heartbeat(invoker_id=InvokerId("m-a"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=0, containers=0,
                  metrics="127.0.0.1:40001"),
        Heartbeat(invoker_id=InvokerId("m-b"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=0, containers=0),
        Heartbeat(invoker_id=InvokerId("m-c"), sent_ms=now - 60_000, user_memory_mb=1024, busy_memory_mb=0,
                  containers=0, metrics="127.0.0.1:40003"),
    ]  # fmt: skip
    for beat in beats:
        await cluster.redis.hset(INVOKERS_KEY, beat.invoker_id, beat.model_dump_json())
    assert (await cluster.client.get("/api/v1/admin/metrics-targets")).status_code == 401
    found = await cluster.client.get("/api/v1/admin/metrics-targets", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert found.status_code == 200
    # m-b serves no metrics, m-c is offline
    assert found.json() == [{"targets": ["127.0.0.1:40001"], "labels": {"component": "invoker", "invoker": "m-a"}}]


async def test_admin_metrics_targets_list_the_controllers_that_advertised_lately(cluster: Cluster) -> None:
    now = int(time.time() * 1000)
    for target in (
        MetricsTarget(controller_id=ControllerId("c-live"), address="10.0.0.5:9101", sent_ms=now),
        MetricsTarget(controller_id=ControllerId("c-gone"), address="10.0.0.6:9101", sent_ms=now - 120_000),
    ):
        await cluster.redis.hset(METRICS_TARGETS, target.controller_id, target.model_dump_json())
    found = await cluster.client.get("/api/v1/admin/metrics-targets", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert found.json() == [
        {"targets": ["10.0.0.5:9101"], "labels": {"component": "controller", "controller": "c-live"}}
    ]


async def test_the_gateway_places_on_a_healthy_invoker_itself_and_queues_for_a_controller_otherwise(
    cluster: Cluster,
) -> None:
    queued = await cluster.invoke("free")  # no invoker has sent a heartbeat: a controller's queue waits for one
    assert queued.status_code == 202
    [(_, fields)] = await cluster.redis.xrange(INVOCATIONS)
    assert Invocation.from_fields(fields).activation_id == queued.json()["activationId"]

    now = int(time.time() * 1000)
    beat = Heartbeat(invoker_id=InvokerId("p-a"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=0, containers=0)
    await cluster.backends.bus.put_heartbeat(beat)
    await cluster.backends.placer.placer.refresh(cluster.backends.bus)  # as its loop does every 0.5 s
    placed = [await cluster.invoke("free") for _ in range(3)]
    assert [r.status_code for r in placed] == [202] * 3
    assert len(await cluster.redis.xrange(INVOCATIONS)) == 1  # nothing more for a controller
    dispatches = [Dispatch.from_fields(f) for _, f in await cluster.redis.xrange(invoker_stream(beat.invoker_id))]
    assert [d.invocation.activation_id for d in dispatches] == [r.json()["activationId"] for r in placed]
    assert {d.controller_id for d in dispatches} == {"gateway:gw-cluster-test"}
    books = await cluster.backends.ledger.books([beat.invoker_id])
    assert books[0].memory_mb == 3 * 256 and sum((books[0].in_flight or {}).values()) == 3

    full = Heartbeat(invoker_id=InvokerId("p-a"), sent_ms=now, user_memory_mb=1024, busy_memory_mb=0, containers=0,
                     failing="the container engine is unreachable")  # fmt: skip
    await cluster.backends.bus.put_heartbeat(full)
    await cluster.backends.placer.placer.refresh(cluster.backends.bus)
    assert (await cluster.invoke("free")).status_code == 202
    assert len(await cluster.redis.xrange(INVOCATIONS)) == 2  # an unhealthy invoker is not placed on
