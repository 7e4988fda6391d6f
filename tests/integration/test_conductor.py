"""Sequences in the controller against real Redis, MariaDB and the activation store: a sequence whose
controller stops mid-way still ends with exactly one record (and its caller with an answer)."""

import asyncio
import time

from controller.service import Controller
from stratus.bus import RedisStreamBus
from stratus.ids import InvokerId, new_activation_id
from stratus.ledger import RedisLedger
from stratus.messages import INVOCATIONS, Completion, Dispatch, Invocation, invoker_stream, reply_stream
from stratus.models import Exec
from stratus.stores.activations import ActivationStore
from stratus.stores.entities import SqlEntityStore
from tests.factories import make_action
from tests.integration.test_controller import beat, bus, settings

__all__ = ["bus"]  # the fixture


async def test_a_sequence_interrupted_by_a_controller_stop_ends_with_an_error_record(
    bus: RedisStreamBus, activations: ActivationStore, mysql_entities: SqlEntityStore
) -> None:
    step = make_action(name="step")
    await mysql_entities.create_action(step)
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
    await beat(bus, "i-1")  # an invoker that never runs anything: the first component stays in its stream
    first = Controller(settings(), bus, activations, RedisLedger(bus._redis), mysql_entities)
    stop_first = asyncio.Event()
    running = asyncio.create_task(first.run(stop_first))
    await bus.publish(INVOCATIONS, sent.to_fields())
    [(_, fields)] = await bus.read(invoker_stream(InvokerId("i-1")), "0", count=10, block_ms=5000)
    component = Dispatch.from_fields(fields).invocation
    assert component.cause == sent.activation_id and component.params == {"n": 1}
    stop_first.set()
    await asyncio.wait_for(running, 10)  # the conductor stops; the sequence's entry stays pending

    second = Controller(settings(claim_idle_ms=1000), bus, activations, RedisLedger(bus._redis), mysql_entities)
    stop_second = asyncio.Event()
    running = asyncio.create_task(second.run(stop_second))
    entries = await bus.read(replies, "0", count=10, block_ms=15_000)
    stop_second.set()
    await asyncio.wait_for(running, 10)
    [(_, fields)] = entries
    record = Completion.from_fields(fields).activation
    assert record is not None and record.activation_id == sent.activation_id
    assert record.response.status == "whisk internal error"
    assert record.logs == [component.activation_id]  # what ran before the stop, not run again
    assert await bus.pending(INVOCATIONS, "controllers", second.controller_id, count=10) == []
    assert len(await bus.read(invoker_stream(InvokerId("i-1")), "0", count=10, block_ms=10)) == 1  # not rerun
