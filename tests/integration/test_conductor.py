"""Sequences in the controller against real Redis, MariaDB and the activation store: a sequence whose
controller stops mid-way is resumed by another controller, and no component runs twice."""

import asyncio
import logging
import time

import pytest

from controller.service import Controller
from core.bus import RedisStreamBus
from core.ids import InvokerId, new_activation_id
from core.ledger import Ending, RedisLedger
from core.messages import INVOCATIONS, Completion, Dispatch, Invocation, Record, invoker_stream, reply_stream
from core.models import Activation, ActivationResponse, Exec
from core.stores.activations import ActivationStore
from core.stores.entities import SqlEntityStore
from tests.factories import make_action
from tests.integration.test_controller import beat, bus, settings

__all__ = ["bus"]  # the fixture


def finished(component: Invocation, result: dict[str, int]) -> Activation:
    now = int(time.time() * 1000)
    return component.record(ActivationResponse(status="success", result=result), start=now, end=now + 5, annotations=[])


async def test_a_sequence_whose_controller_stops_is_resumed_by_another(
    bus: RedisStreamBus, activations: ActivationStore, mysql_entities: SqlEntityStore
) -> None:
    await mysql_entities.create_action(make_action(name="step"))
    sequence = make_action(name="seq", exec=Exec(kind="sequence", components=["/ns/step", "/ns/step"]))
    replies = reply_stream("gw-seq")  # type: ignore[arg-type]
    sent = Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=sequence,
        params={"n": 1},
        accepted_ms=int(time.time() * 1000),
        reply_to=replies,
    )
    await beat(bus, "i-1")  # an invoker played by the test: components wait in its stream
    first = Controller(settings(), bus, activations, RedisLedger(bus._redis), mysql_entities)
    stop_first = asyncio.Event()
    running = asyncio.create_task(first.run(stop_first))
    await bus.publish(INVOCATIONS, sent.to_fields())
    [(first_entry, fields)] = await bus.read(invoker_stream(InvokerId("i-1")), "0", count=10, block_ms=5000)
    one = Dispatch.from_fields(fields).invocation
    assert one.cause == sent.activation_id and one.params == {"n": 1}
    stop_first.set()
    await asyncio.wait_for(running, 10)  # the conductor stops; the sequence's entry stays pending
    await activations.put(finished(one, {"n": 2}))  # the component ends; its reply went to the stopped one

    second = Controller(settings(claim_idle_ms=1000), bus, activations, RedisLedger(bus._redis), mysql_entities)
    stop_second = asyncio.Event()
    running = asyncio.create_task(second.run(stop_second))
    await beat(bus, "i-1")
    [(_, fields)] = await bus.read(invoker_stream(InvokerId("i-1")), first_entry, count=10, block_ms=15_000)
    two = Dispatch.from_fields(fields).invocation
    assert two.params == {"n": 2} and two.activation_id != one.activation_id  # the first did not run again
    record = finished(two, {"n": 3})
    reply = (str(two.reply_to), Completion(activation_id=two.activation_id, activation=record).to_fields())
    await second.ledger.end([Ending(two.activation_id, "ns", Record(activation=record).to_fields(), reply, None)])
    entries = await bus.read(replies, "0", count=10, block_ms=10_000)
    stop_second.set()
    await asyncio.wait_for(running, 10)
    [(_, fields)] = entries
    ended = Completion.from_fields(fields).activation
    assert ended is not None and ended.activation_id == sent.activation_id
    assert ended.response.status == "success" and ended.response.result == {"n": 3}
    assert ended.logs == [one.activation_id, two.activation_id] and ended.duration == 10
    assert await bus.pending(INVOCATIONS, "controllers", second.controller_id, count=10) == []


async def test_a_live_conductor_keeps_its_sequence_when_another_controller_claims_the_entry(
    bus: RedisStreamBus, activations: ActivationStore, mysql_entities: SqlEntityStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="controller.conductor")
    await mysql_entities.create_action(make_action(name="step"))
    sequence = make_action(name="seq", exec=Exec(kind="sequence", components=["/ns/step", "/ns/step"]))
    replies = reply_stream("gw-seq")  # type: ignore[arg-type]
    sent = Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=sequence,
        params={"n": 1},
        accepted_ms=int(time.time() * 1000),
        reply_to=replies,
    )
    await beat(bus, "i-1")
    stop = asyncio.Event()
    live = Controller(settings(), bus, activations, RedisLedger(bus._redis), mysql_entities)
    eager = Controller(settings(claim_idle_ms=1000), bus, activations, RedisLedger(bus._redis), mysql_entities)
    running = [asyncio.create_task(live.run(stop))]
    await bus.publish(INVOCATIONS, sent.to_fields())
    stream = invoker_stream(InvokerId("i-1"))
    [(entry, fields)] = await bus.read(stream, "0", count=10, block_ms=5000)  # the live one conducts it
    running.append(asyncio.create_task(eager.run(stop)))  # only then: which of two reads it first is a race
    await asyncio.sleep(2.5)  # the eager controller claims the idle entry (and must leave it alone)
    assert "conducted by a live controller" in caplog.text
    for step in (2, 3):
        component = Dispatch.from_fields(fields).invocation
        record = finished(component, {"n": step})
        completion = Completion(activation_id=component.activation_id, activation=record).to_fields()
        fields_out = Record(activation=record).to_fields()
        reply = (str(component.reply_to), completion)
        await live.ledger.end([Ending(component.activation_id, "ns", fields_out, reply, None)])
        if step == 2:
            found = await bus.read(stream, entry, count=10, block_ms=5000)
            assert len(found) == 1  # one conductor: the second component is published once
            [(entry, fields)] = found
    entries = await bus.read(replies, "0", count=10, block_ms=10_000)
    stop.set()
    await asyncio.gather(*running)
    [(_, fields)] = entries
    ended = Completion.from_fields(fields).activation
    assert ended is not None and ended.response.result == {"n": 3} and len(ended.logs) == 2
    assert await bus.read(stream, entry, count=10, block_ms=10) == []
