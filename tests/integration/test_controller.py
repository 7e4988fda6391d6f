"""The controller against real Redis and the real activation store."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from controller.service import Controller
from core.bus import Delivery, RedisStreamBus
from core.config import ControllerSettings
from core.ids import InvokerId, new_activation_id
from core.ledger import RedisLedger
from core.messages import INVOCATIONS, Completion, Dispatch, Heartbeat, Invocation, invoker_stream, reply_stream
from core.records import UNREADABLE
from core.sharding import probe_order, shard_key
from core.stores.activations import ActivationStore
from tests.factories import make_action, make_activation


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamBus]:
    db15 = redis_url.rsplit("/", 1)[0] + "/15"  # the controller uses the shared stream names: own a database
    found = RedisStreamBus.from_url(db15)
    await found._redis.flushdb()
    yield found
    await found._redis.flushdb()
    await found.close()


def settings(**overrides: object) -> ControllerSettings:
    base = {
        "controller_id": f"c-{uuid4().hex[:6]}",
        "redis_url": "unused",
        "mongo_url": "unused",
        "entities_url": "unused",
        "no_invoker_grace_s": 0.5,
    }
    return ControllerSettings(**(base | overrides))  # type: ignore[arg-type]


def invocation(reply_to: str | None = None) -> Invocation:
    return Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=make_action().without_code(),
        params={},
        accepted_ms=int(time.time() * 1000),
        reply_to=reply_to,
    )


async def beat(bus: RedisStreamBus, invoker_id: str) -> None:
    await bus.put_heartbeat(
        Heartbeat(
            invoker_id=InvokerId(invoker_id),
            sent_ms=int(time.time() * 1000),
            user_memory_mb=2048,
            busy_memory_mb=0,
            containers=0,
        )
    )


async def test_invocation_is_dispatched_to_a_healthy_invoker(bus: RedisStreamBus, activations: ActivationStore) -> None:
    await beat(bus, "i-1")
    controller = Controller(settings(), bus, activations, RedisLedger(bus._redis))
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    sent = invocation()
    await bus.publish(INVOCATIONS, sent.to_fields())
    entries = await bus.read(invoker_stream(InvokerId("i-1")), "0", count=10, block_ms=5000)
    stop.set()
    await asyncio.wait_for(running, 10)
    [(_, fields)] = entries
    dispatch = Dispatch.from_fields(fields)
    assert dispatch.invocation == sent and dispatch.controller_id == controller.controller_id
    assert [r.activation_id for r in await controller.ledger.reservations()] == [sent.activation_id]
    assert await bus.pending(INVOCATIONS, "controllers", controller.controller_id, count=10) == []


async def test_without_any_invoker_the_activation_fails_with_a_record_and_a_reply(
    bus: RedisStreamBus, activations: ActivationStore
) -> None:
    controller = Controller(settings(), bus, activations, RedisLedger(bus._redis))
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    replies = reply_stream("gw-test")  # type: ignore[arg-type]
    sent = invocation(reply_to=replies)
    await bus.publish(INVOCATIONS, sent.to_fields())
    entries = await bus.read(replies, "0", count=10, block_ms=5000)
    stop.set()
    await asyncio.wait_for(running, 10)
    [(_, fields)] = entries
    completion = Completion.from_fields(fields)
    assert completion.activation.response.status == "whisk internal error"
    for _ in range(100):  # the recorder writes the outbox to the store in batches, a moment later
        if stored := await activations.get("ns", sent.activation_id):
            break
        await asyncio.sleep(0.05)
    assert stored is not None and stored.response.status == "whisk internal error"


async def test_undecodable_invocation_is_dead_lettered(bus: RedisStreamBus, activations: ActivationStore) -> None:
    controller = Controller(settings(), bus, activations, RedisLedger(bus._redis))
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    await bus.publish(INVOCATIONS, {"body": "not json"})
    for _ in range(50):
        if await bus.read("stratus:dead-letter", "0", count=10, block_ms=0):
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(running, 10)
    assert await bus.read("stratus:dead-letter", "0", count=10, block_ms=0)
    assert await bus.pending(INVOCATIONS, "controllers", controller.controller_id, count=10) == []


async def test_an_invocation_that_does_not_decode_still_ends_with_a_record_and_an_answer(
    bus: RedisStreamBus, activations: ActivationStore
) -> None:
    """Params nested deeper than the consumers' parser takes were once accepted and then lost."""
    controller = Controller(settings(), bus, activations, RedisLedger(bus._redis))
    replies = reply_stream("gw-test")  # type: ignore[arg-type]
    sent = invocation(reply_to=replies)
    nested: dict[str, object] = {}
    for _ in range(260):
        nested = {"a": nested}
    body = json.loads(sent.to_fields()["body"]) | {"params": nested}
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    await bus.publish(INVOCATIONS, {"body": json.dumps(body)})
    entries = await bus.read(replies, "0", count=10, block_ms=5000)
    for _ in range(100):
        if stored := await activations.get("ns", sent.activation_id):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, 10)
    [(_, fields)] = entries
    assert Completion.from_fields(fields).activation.response.status == "whisk internal error"
    assert stored is not None and stored.response.status == "whisk internal error"
    assert stored.response.result == {"error": UNREADABLE}
    assert await bus.pending(INVOCATIONS, "controllers", controller.controller_id, count=10) == []
    assert await bus.read("stratus:dead-letter", "0", count=10, block_ms=0)  # the entry kept for a look


async def test_two_controllers_place_on_the_invoker_holding_a_warm_container_without_overbooking(
    bus: RedisStreamBus, activations: ActivationStore
) -> None:
    """The warm policy on real Redis: heartbeats say where the action is warm (not its home); two controllers
    share the books, so the warm invoker takes the first two (its 2 warm containers, all its memory) and the
    next two go to the home, never one past an invoker's memory."""
    warm_id, home_id = "i-warm", "i-cold"  # sorted: i-cold is ring position 0
    action = make_action(limits={"memory": 1024}).without_code()
    while probe_order(shard_key("ns", action.fqn), 2)[0] != 0:
        action = make_action(limits={"memory": 1024}).without_code()
    for invoker_id, warm in ((warm_id, {action.fqn: 2}), (home_id, {})):
        await bus.put_heartbeat(
            Heartbeat(
                invoker_id=InvokerId(invoker_id),
                sent_ms=int(time.time() * 1000),
                user_memory_mb=2048,
                busy_memory_mb=0,
                containers=len(warm),
                warm=warm,
            )
        )
    ledger = RedisLedger(bus._redis)
    controllers = [Controller(settings(), bus, activations, ledger) for _ in range(2)]
    await bus.ensure_group(INVOCATIONS, "controllers")
    for controller in controllers:
        await controller.refresh()

    async def place(controller: Controller) -> None:
        one = Invocation(
            activation_id=new_activation_id(), namespace="ns", subject="ns", action=action, params={}, accepted_ms=0
        )
        entry = await bus.publish(INVOCATIONS, one.to_fields())
        await controller.dispatch([(Delivery(INVOCATIONS, "controllers", entry, {}), one)])

    await asyncio.gather(*(place(c) for c in controllers))
    assert [b.memory_mb for b in await ledger.books([warm_id, home_id])] == [2048, 0]
    await asyncio.gather(*(place(c) for c in controllers))
    assert [b.memory_mb for b in await ledger.books([warm_id, home_id])] == [2048, 2048]


async def test_a_running_controller_deletes_records_once_their_retention_is_over(
    bus: RedisStreamBus, activations: ActivationStore
) -> None:
    record = make_activation()
    await activations.put(record)
    controller = Controller(settings(activation_ttl_s=1), bus, activations, RedisLedger(bus._redis))
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    for _ in range(100):
        if await activations.get(record.namespace, record.activation_id) is None:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(running, 10)
    assert await activations.get(record.namespace, record.activation_id) is None
