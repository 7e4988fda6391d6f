"""The invoker service on real Redis, the activation store, and real containers."""

import asyncio
import time
from typing import Any
from uuid import uuid4

import docker
import pytest

from core import kinds
from core.backends import CoreBackends
from core.bus import RedisStreamBus
from core.config import InvokerSettings
from core.ids import ControllerId, InvokerId, new_activation_id
from core.ledger import RedisLedger
from core.messages import (
    INVOKERS_GROUP,
    RECORDS,
    Completion,
    Dispatch,
    Invocation,
    Record,
    invoker_stream,
    reply_stream,
)
from core.stores.activations import MongoActivationStore
from core.stores.entities import SqlEntityStore
from images import ensure_runtime_image
from invoker.service import MANAGED_LABEL
from invoker.wiring import open_invoker
from tests.conftest import runtime_repository
from tests.factories import make_action
from tests.invoker_harness import INVOKER_NETWORK

pytestmark = pytest.mark.docker


async def test_invoker_lifecycle(
    redis_url: str, activations: MongoActivationStore, sqlite_entities: SqlEntityStore
) -> None:
    engine = docker.from_env()
    image = ensure_runtime_image(engine, kinds.DEFAULT, repository=runtime_repository()).tag
    invoker_id = InvokerId(f"svc-{uuid4().hex[:8]}")
    leftover = engine.containers.create(image, labels={MANAGED_LABEL: invoker_id})
    bus = RedisStreamBus.from_url(redis_url)
    action = make_action(
        exec=make_action().exec.model_copy(update={"code": "def main(a):\n    return {'v': a['v']}\n"})
    )
    await sqlite_entities.create_action(action)
    settings = InvokerSettings(
        invoker_id=invoker_id, redis_url=redis_url, mongo_url="-", entities_url="-", network=INVOKER_NETWORK
    )
    core = CoreBackends(sqlite_entities, activations, bus, RedisLedger(bus._redis))
    stop = asyncio.Event()
    try:
        async with open_invoker(settings, core) as invoker:
            running = asyncio.create_task(invoker.run(stop))
            await asyncio.sleep(1.5)
            assert engine.containers.list(all=True, filters={"id": leftover.id}) == []  # removed at start
            beats = {b.invoker_id: b for b in await bus.heartbeats()}
            assert beats[invoker_id].state == "up"

            replies, controller = reply_stream(f"gw-{uuid4().hex[:6]}"), ControllerId(f"c-{uuid4().hex[:6]}")  # type: ignore[arg-type]
            invocation = Invocation(
                activation_id=new_activation_id(),
                namespace="ns",
                subject="ns",
                action=action.without_code(),
                params={"v": 7},
                accepted_ms=int(time.time() * 1000),
                reply_to=replies,
            )
            dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=controller)
            await bus.publish(invoker_stream(invoker_id), dispatch.to_fields())
            [(_, reply)] = await bus.read(replies, "0", count=1, block_ms=30_000)
            completion = Completion.from_fields(reply)
            assert completion.activation.response.result == {"v": 7}
            # in the same step: the record in the outbox (a recorder writes it to the store), the Dispatch done
            outbox = [Record.from_fields(fields).activation for _, fields in await bus._redis.xrange(RECORDS)]
            assert [r for r in outbox if r.activation_id == invocation.activation_id] == [completion.activation]
            assert await bus.pending(invoker_stream(invoker_id), INVOKERS_GROUP, invoker_id, count=10) == []
            assert await bus.read(invoker_stream(invoker_id), "0", count=10, block_ms=0) == []
            assert engine.containers.list(filters={"label": f"{MANAGED_LABEL}={invoker_id}"})
            stop.set()
            await asyncio.wait_for(running, 30)
        assert engine.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}={invoker_id}"}) == []
        assert invoker_id not in {b.invoker_id for b in await bus.heartbeats()}
    finally:
        for container in engine.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}={invoker_id}"}):
            container.remove(force=True)
        await bus.close()
        engine.close()


async def test_a_restarted_invoker_ends_what_it_had_received_and_runs_none_of_it_again(
    redis_url: str, activations: MongoActivationStore, sqlite_entities: SqlEntityStore
) -> None:
    invoker_id = InvokerId(f"svc-{uuid4().hex[:8]}")
    bus = RedisStreamBus.from_url(redis_url)
    stream, replies = invoker_stream(invoker_id), reply_stream(f"gw-{uuid4().hex[:6]}")  # type: ignore[arg-type]
    action = make_action()
    started = [
        Invocation(
            activation_id=new_activation_id(),
            namespace="ns",
            subject="ns",
            action=action.without_code(),
            params={},
            accepted_ms=int(time.time() * 1000),
            reply_to=replies,
        )
        for _ in range(2)
    ]
    await bus.ensure_group(stream, INVOKERS_GROUP)
    for invocation in started:
        dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=ControllerId("c"))
        await bus.publish(stream, dispatch.to_fields())
    assert len(await bus.consume(stream, INVOKERS_GROUP, invoker_id, count=10, block_ms=1)) == 2  # then it died
    settings = InvokerSettings(
        invoker_id=invoker_id,
        redis_url=redis_url,
        mongo_url="-",
        entities_url="-",
        network=INVOKER_NETWORK,
        stem_cells=(),
    )
    stop = asyncio.Event()
    engine = docker.from_env()
    try:
        async with open_invoker(
            settings, CoreBackends(sqlite_entities, activations, bus, RedisLedger(bus._redis))
        ) as invoker:
            running = asyncio.create_task(invoker.run(stop))
            answers: list[tuple[str, Any]] = []
            while len(answers) < 2:
                answers += await bus.read(replies, answers[-1][0] if answers else "0", count=10, block_ms=30_000)
            stop.set()
            await asyncio.wait_for(running, 30)
        ended = {Completion.from_fields(fields).activation.activation_id: fields for _, fields in answers}
        assert set(ended) == {i.activation_id for i in started}
        for fields in ended.values():
            record = Completion.from_fields(fields).activation
            assert record.response.status == "whisk internal error" and "restarted" in record.response.result["error"]
        assert await bus.pending(stream, INVOKERS_GROUP, invoker_id, count=10) == []
        assert engine.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}={invoker_id}"}) == []  # none ran
    finally:
        await bus.close()
        engine.close()
