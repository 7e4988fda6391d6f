"""Several controllers and invokers on real Redis: capacity accounting, health, rerouting, takeover.

Invokers are played by their heartbeats and their streams (what a controller sees of them), so each
test sets up exactly the cluster state it checks; tests/e2e/test_cluster.py runs the real thing.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import pytest

from controller.service import Controller
from core.bus import RedisStreamBus
from core.config import ControllerSettings
from core.ids import ActivationId, InvokerId, new_activation_id
from core.ledger import Ending, RedisLedger, Reservation
from core.messages import (
    INVOCATIONS,
    INVOKERS_GROUP,
    Completion,
    Dispatch,
    Heartbeat,
    Invocation,
    Record,
    invoker_stream,
    reply_stream,
)
from core.models import ActivationResponse, Limits
from core.stores.activations import ActivationStore
from tests.factories import make_action
from tests.private_redis import private_redis


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamBus]:
    db14 = redis_url.rsplit("/", 1)[0] + "/14"  # shared stream names: the test owns a database
    found = RedisStreamBus.from_url(db14)
    await found._redis.flushdb()
    yield found
    await found._redis.flushdb()
    await found.close()


@pytest.fixture
def ledger(bus: RedisStreamBus) -> RedisLedger:
    return RedisLedger(bus._redis)


def now_ms() -> int:
    return int(time.time() * 1000)


def settings(**overrides: object) -> ControllerSettings:
    base = {
        "controller_id": f"c-{uuid4().hex[:6]}",
        "redis_url": "unused",
        "mongo_url": "unused",
        "entities_url": "unused",
        "no_invoker_grace_s": 0.5,
        "heartbeat_ttl_s": 2.0,
        "dead_invoker_grace_s": 0.2,
        "claim_idle_ms": 1000,
    }
    return ControllerSettings(**(base | overrides))  # type: ignore[arg-type]


def invocation(*, name: str | None = None, timeout_ms: int = 60_000, reply_to: str | None = None) -> Invocation:
    action = make_action(limits=Limits(memory=256, timeout=timeout_ms), **({"name": name} if name else {}))
    return Invocation(
        activation_id=new_activation_id(),
        namespace="ns",
        subject="ns",
        action=action.without_code(),
        params={},
        accepted_ms=now_ms(),
        reply_to=reply_to,
    )


async def beat(bus: RedisStreamBus, invoker_id: str, memory_mb: int = 2048, *, age_ms: int = 0, **extra: Any) -> None:
    heartbeat = Heartbeat(
        invoker_id=InvokerId(invoker_id),
        sent_ms=now_ms() - age_ms,
        user_memory_mb=memory_mb,
        busy_memory_mb=0,
        containers=0,
        **extra,
    )
    await bus.put_heartbeat(heartbeat)


@asynccontextmanager
async def running(*controllers: Controller) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in controllers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def dispatched(bus: RedisStreamBus, invoker_id: str) -> list[Dispatch]:
    entries = await bus._redis.xrange(invoker_stream(InvokerId(invoker_id)))
    return [Dispatch.from_fields(fields) for _, fields in entries]


@asynccontextmanager
async def beating(bus: RedisStreamBus, *invokers: tuple[str, int]) -> AsyncIterator[None]:
    """These invokers stay alive (a heartbeat every 0.3 s) while the block runs."""

    async def loop() -> None:
        while True:
            for invoker_id, memory_mb in invokers:
                await beat(bus, invoker_id, memory_mb)
            await asyncio.sleep(0.3)

    await loop_once(bus, invokers)
    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


async def loop_once(bus: RedisStreamBus, invokers: tuple[tuple[str, int], ...]) -> None:
    for invoker_id, memory_mb in invokers:
        await beat(bus, invoker_id, memory_mb)


async def books(bus: RedisStreamBus, invoker_id: str) -> int:
    return int(await bus._redis.hget(f"stratus:slots:{invoker_id}", "mem") or 0)  # type: ignore[misc]


async def test_two_controllers_fill_uneven_invokers_exactly_and_release_once(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    first, second = (Controller(settings(), bus, activations, ledger) for _ in range(2))
    sent = [invocation() for _ in range(6)]
    async with beating(bus, ("i-small", 512), ("i-large", 1024)), running(first, second):  # 6 slots of 256 MB
        for one in sent:
            await bus.publish(INVOCATIONS, one.to_fields())

        async def all_dispatched() -> bool:
            return len(await dispatched(bus, "i-small")) + len(await dispatched(bus, "i-large")) == 6

        await eventually(all_dispatched)
        small, large = await dispatched(bus, "i-small"), await dispatched(bus, "i-large")
        assert (len(small), len(large)) == (2, 4)  # filled to capacity, nobody over
        assert {d.controller_id for d in small + large} <= {first.controller_id, second.controller_id}
        assert (await books(bus, "i-small"), await books(bus, "i-large")) == (512, 1024)
        for d in small + large:  # every activation is ended twice (a redelivered Dispatch): released once
            record = d.invocation.record(
                ActivationResponse(status="success", result={}), start=1, end=2, annotations=[]
            )
            end = Ending(record.activation_id, "ns", Record(activation=record).to_fields(), None, None)
            await ledger.end([end, end])
        assert not await ledger.reservations()
    assert (await books(bus, "i-small"), await books(bus, "i-large")) == (0, 0)


async def test_nothing_goes_to_unhealthy_or_offline_invokers_and_a_returning_one_rejoins(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    await beat(bus, "i-sick", failing="containers do not start: engine unreachable")
    await beat(bus, "i-gone", age_ms=60_000)
    controller = Controller(settings(heartbeat_ttl_s=30), bus, activations, ledger)
    async with beating(bus, ("i-ok", 2048)), running(controller):
        for _ in range(12):
            await bus.publish(INVOCATIONS, invocation().to_fields())

        async def twelve() -> bool:
            return len(await dispatched(bus, "i-ok")) == 12

        await eventually(twelve)
        assert await dispatched(bus, "i-sick") == [] and await dispatched(bus, "i-gone") == []

    async with beating(bus, ("i-ok", 2048), ("i-sick", 2048), ("i-gone", 2048)), running(controller):
        # healed (its heartbeat no longer reports a failure) and back: both get work again
        for n in range(30):
            await bus.publish(INVOCATIONS, invocation(name=f"a{n}").to_fields())

        async def spread() -> bool:
            counts = [len(await dispatched(bus, i)) for i in ("i-ok", "i-sick", "i-gone")]
            return sum(counts) == 42 and all(counts)

        await eventually(spread)


async def test_offline_invoker_backlog_is_rerouted_and_its_running_work_fails_after_the_deadline(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    dead, dead_stream = InvokerId("i-dead"), invoker_stream(InvokerId("i-dead"))
    await bus.ensure_group(dead_stream, INVOKERS_GROUP)
    replies = reply_stream("gw-test")  # type: ignore[arg-type]
    running_ones = [invocation(timeout_ms=100, reply_to=replies), invocation(timeout_ms=100)]
    for one in running_ones:  # read by the invoker before it died: pending at its name
        await bus.publish(dead_stream, Dispatch(invocation=one, invoker_id=dead, controller_id="c0").to_fields())  # type: ignore[arg-type]
    assert len(await bus.consume(dead_stream, INVOKERS_GROUP, dead, count=10, block_ms=1)) == 2
    never_read = [invocation() for _ in range(3)]
    for one in never_read:
        await bus.publish(dead_stream, Dispatch(invocation=one, invoker_id=dead, controller_id="c0").to_fields())  # type: ignore[arg-type]
    await beat(bus, dead, age_ms=5_000)  # older than the TTL: offline
    controller = Controller(settings(), bus, activations, ledger)
    async with beating(bus, ("i-live", 2048)), running(controller):

        async def rerouted() -> bool:
            return len(await dispatched(bus, "i-live")) == 3

        await eventually(rerouted)

        async def failed() -> bool:
            found = [await activations.get("ns", one.activation_id) for one in running_ones]
            return all(found)

        await eventually(failed)
    assert {d.invocation.activation_id for d in await dispatched(bus, "i-live")} == {
        one.activation_id for one in never_read
    }
    for one in running_ones:
        record = await activations.get("ns", one.activation_id)
        assert record is not None and record.response.status == "whisk internal error"
    [(_, fields)] = await bus._redis.xrange(replies)
    answer = Completion.from_fields(fields).activation
    assert answer is not None and answer.activation_id == running_ones[0].activation_id
    pending = await bus._redis.xpending(dead_stream, INVOKERS_GROUP)
    assert pending["pending"] == 0  # every entry of the dead invoker is accounted for
    assert sorted(r.activation_id for r in await ledger.reservations()) == sorted(
        one.activation_id for one in never_read
    )


async def test_a_dead_controllers_accepted_invocation_is_taken_over(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    await bus.ensure_group(INVOCATIONS, "controllers")
    sent = invocation()
    await bus.publish(INVOCATIONS, sent.to_fields())
    assert len(await bus.consume(INVOCATIONS, "controllers", "c-dead", count=10, block_ms=1)) == 1  # then it died
    controller = Controller(settings(), bus, activations, ledger)
    async with beating(bus, ("i-live", 2048)), running(controller):

        async def taken_over() -> bool:
            return [d.invocation.activation_id for d in await dispatched(bus, "i-live")] == [sent.activation_id]

        await eventually(taken_over)
    assert (await bus._redis.xpending(INVOCATIONS, "controllers"))["pending"] == 0


async def test_throttles_count_per_minute_and_in_flight(ledger: RedisLedger) -> None:
    ns, now = f"ns-{uuid4().hex[:6]}", now_ms()

    async def admit(n: int, *, per_minute: int = 0, concurrent: int = 0) -> Any:
        return await ledger.admit(
            ns, ActivationId(f"a{n}"), per_minute=per_minute, concurrent=concurrent, now_ms=now, ttl_ms=60_000
        )

    assert [await admit(n, concurrent=2) for n in range(2)] == [None, None]
    refused = await admit(2, concurrent=2)
    assert (refused.throttle, refused.count, refused.allowed) == ("concurrent", 2, 2)
    await ledger.finish(ns, ActivationId("a0"))
    assert await admit(3, concurrent=2) is None
    assert await ledger.in_flight(ns, now) == 2
    ns = f"ns-{uuid4().hex[:6]}"
    assert [await admit(n, per_minute=3) for n in range(3)] == [None] * 3
    refused = await admit(3, per_minute=3)
    assert (refused.throttle, refused.count, refused.allowed) == ("per-minute", 4, 3)


@pytest.fixture
async def own_bus() -> AsyncIterator[RedisStreamBus]:
    """On a redis-server of this test's own: its server-wide counters count this test's requests only."""
    with private_redis() as sock:
        found = RedisStreamBus.from_url(f"unix://{sock}?db=0")
        yield found
        await found.close()


async def test_concurrent_admissions_share_round_trips_and_admit_exactly_the_limit(own_bus: RedisStreamBus) -> None:
    ledger = RedisLedger(own_bus._redis)
    ns, now = f"ns-{uuid4().hex[:6]}", now_ms()
    # the admissions' connection is opened (and greeted: HELLO, CLIENT SETINFO) once, before counting
    await ledger.admit(f"{ns}-warm", ActivationId("w"), per_minute=0, concurrent=30, now_ms=now, ttl_ms=60_000)
    reads_before = int((await own_bus._redis.info("stats"))["total_reads_processed"])
    answers = await asyncio.gather(
        *(
            ledger.admit(ns, ActivationId(f"a{n}"), per_minute=0, concurrent=30, now_ms=now, ttl_ms=60_000)
            for n in range(100)
        )
    )
    reads = int((await own_bus._redis.info("stats"))["total_reads_processed"]) - reads_before
    assert answers[:30] == [None] * 30  # in arrival order, each script atomic
    assert all(a is not None and (a.throttle, a.count) == ("concurrent", 30) for a in answers[30:])
    assert await ledger.in_flight(ns, now) == 30
    assert reads <= 4  # 100 admissions, one alone then the rest together (and the INFO itself)


async def test_a_dispatch_left_on_the_stream_of_an_invoker_that_shut_down_is_rerouted(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    leaving = InvokerId("i-leaving")
    await bus.ensure_group(invoker_stream(leaving), INVOKERS_GROUP)
    controller = Controller(settings(), bus, activations, ledger)
    async with beating(bus, ("i-live", 2048)), running(controller):
        await beat(bus, leaving)
        await controller.refresh()
        await bus.remove_heartbeat(leaving)  # a clean shutdown removes its heartbeat entry...
        late = invocation()  # ...but a Dispatch was on its way
        dispatch = Dispatch(invocation=late, invoker_id=leaving, controller_id=controller.controller_id)
        await bus.publish(invoker_stream(leaving), dispatch.to_fields())

        async def rerouted() -> bool:
            return [d.invocation.activation_id for d in await dispatched(bus, "i-live")] == [late.activation_id]

        await eventually(rerouted)
        await eventually(lambda: _forgotten(controller, leaving))


async def _forgotten(controller: Controller, invoker_id: InvokerId) -> bool:
    return invoker_id not in controller.registry.seen


async def test_slots_a_healthy_invoker_never_released_are_freed_long_after_the_deadline(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    await beat(bus, "i-live")
    await beat(bus, "i-gone", age_ms=60_000)
    controller = Controller(settings(), bus, activations, ledger)
    await controller.refresh()
    long_ago = now_ms() - 10 * 60_000
    for invoker_id, activation_id in (("i-live", "a-stuck"), ("i-gone", "a-dead"), ("i-live", "a-recent")):
        deadline = long_ago if activation_id != "a-recent" else now_ms()
        reservation = Reservation(
            ActivationId(activation_id), InvokerId(invoker_id), "ns|ns/a|r", 256, 1, "ns", deadline
        )
        assert await ledger.reserve(reservation, 2048, force=False)
    await controller.recovery.release_overdue(now_ms())
    assert sorted(r.activation_id for r in await ledger.reservations()) == ["a-dead", "a-recent"]
    assert await books(bus, "i-live") == 256  # the dead invoker's is failed with a record, by the takeover


async def test_the_ledger_reloads_its_scripts_after_redis_lost_them(bus: RedisStreamBus, ledger: RedisLedger) -> None:
    record = invocation().record(ActivationResponse(status="success", result={}), start=1, end=2, annotations=[])
    end = Ending(record.activation_id, "ns", Record(activation=record).to_fields(), None, None)
    await bus._redis.script_flush()  # what a restart without persistence of the script cache does
    await ledger.end([end])
    assert [e for e in await bus._redis.xrange("stratus:records") if e[1][b"body"] == end.record["body"].encode()]


async def test_an_invocation_waiting_for_an_invoker_is_not_claimed_and_placed_twice(
    bus: RedisStreamBus, ledger: RedisLedger, activations: ActivationStore
) -> None:
    """A controller that holds an invocation longer than the claim idle time (waiting for a healthy
    invoker) keeps it: another controller's claim must not take it over and place it a second time."""
    options = {"no_invoker_grace_s": 6.0, "claim_idle_ms": 1500}
    first, second = (Controller(settings(**options), bus, activations, ledger) for _ in range(2))
    sent = [invocation() for _ in range(4)]
    async with running(first, second):
        for one in sent:
            await bus.publish(INVOCATIONS, one.to_fields())
        await asyncio.sleep(3.5)  # over twice the claim idle time with nobody to run them
        async with beating(bus, ("i-late", 2048)):

            async def placed() -> bool:
                return len(await dispatched(bus, "i-late")) >= len(sent)

            await eventually(placed)
            await asyncio.sleep(2)  # a second placement would show up by now
            ids = [d.invocation.activation_id for d in await dispatched(bus, "i-late")]
    assert sorted(ids) == sorted(one.activation_id for one in sent)
