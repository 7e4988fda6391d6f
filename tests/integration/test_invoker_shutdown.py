"""The invoker service stopping under load, and its metrics, on real Redis, the activation store and containers."""

import asyncio
import time
from uuid import uuid4

import docker
import pytest
from prometheus_client import REGISTRY, generate_latest

from core.backends import CoreBackends
from core.bus import RedisStreamBus
from core.config import InvokerSettings, StemCells
from core.ids import ControllerId, InvokerId, new_activation_id
from core.ledger import RedisLedger
from core.messages import INVOKERS_GROUP, RECORDS, Dispatch, Invocation, Record, invoker_stream
from core.stores.activations import MongoActivationStore
from core.stores.entities import SqlEntityStore
from invoker.service import MANAGED_LABEL
from invoker.wiring import open_invoker
from tests.factories import make_action
from tests.invoker_harness import INVOKER_NETWORK, eventually

pytestmark = pytest.mark.docker

SLOW = "import time\ndef main(a):\n    time.sleep(a['sleep'])\n    print('done', a['n'])\n    return {'n': a['n']}\n"


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text output (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(part in line for part in wanted.split(",")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_stop_finishes_in_flight_activations_records_them_and_removes_every_container(
    engine: docker.DockerClient, redis_url: str, activations: MongoActivationStore, sqlite_entities: SqlEntityStore
) -> None:
    invoker_id = InvokerId(f"stop-{uuid4().hex[:8]}")
    bus = RedisStreamBus.from_url(redis_url)
    action = make_action(exec=make_action().exec.model_copy(update={"code": SLOW}))
    await sqlite_entities.create_action(action)
    settings = InvokerSettings(
        invoker_id=invoker_id,
        redis_url=redis_url,
        mongo_url="-",
        entities_url="-",
        network=INVOKER_NETWORK,
        stem_cells=(StemCells(kind="python:3.11", count=1, memory_mb=action.limits.memory),),
    )
    stop = asyncio.Event()
    invocations = [
        Invocation(
            activation_id=new_activation_id(),
            namespace="ns",
            subject="ns",
            action=action.without_code(),
            params={"n": n, "sleep": 2},
            accepted_ms=int(time.time() * 1000),
        )
        for n in range(3)
    ]
    try:
        async with open_invoker(
            settings, CoreBackends(sqlite_entities, activations, bus, RedisLedger(bus._redis))
        ) as invoker:
            running = asyncio.create_task(invoker.run(stop))
            await eventually(lambda: invoker._pool.states()["prewarm"] == 1)
            for invocation in invocations:
                dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=ControllerId("c-stop"))
                await bus.publish(invoker_stream(invoker_id), dispatch.to_fields())
            await eventually(lambda: invoker._pool.states()["busy"] == 3)
            scraped = generate_latest(REGISTRY).decode()
            assert sample(scraped, "stratus_invoker_containers", invoker=invoker_id, state="busy") == 3
            assert sample(scraped, "stratus_invoker_starts_total", invoker=invoker_id, start="prewarm") == 1
            assert sample(scraped, "stratus_invoker_starts_total", invoker=invoker_id, start="cold") == 2
            assert sample(scraped, "stratus_invoker_memory_mb", invoker=invoker_id, kind="busy") >= 3 * 256
            stop.set()  # while all three are still sleeping in their functions
            await asyncio.wait_for(running, 60)
        outbox = {
            r.activation_id: r for r in (Record.from_fields(f).activation for _, f in await bus._redis.xrange(RECORDS))
        }
        for invocation in invocations:  # finished and recorded (in the outbox a recorder empties), not dropped
            record = outbox.get(invocation.activation_id)
            assert record is not None and record.response.result == {"n": invocation.params["n"]}
        assert engine.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}={invoker_id}"}) == []
        assert await bus.pending(invoker_stream(invoker_id), INVOKERS_GROUP, invoker_id, count=10) == []  # all acked
    finally:
        for container in engine.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}={invoker_id}"}):
            container.remove(force=True)
        await bus.close()
