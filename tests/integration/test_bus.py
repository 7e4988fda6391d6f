"""RedisStreamBus against a real redis-server."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from core.bus import MAX_CONNECTIONS, RedisStreamBus
from core.consumer import ConsumerSpec, run_batch_consumer, run_consumer
from core.errors import StoreUnavailable
from core.ids import InvokerId
from core.messages import DEAD_LETTER, Heartbeat


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamBus]:
    found = RedisStreamBus.from_url(redis_url)
    yield found
    await found.close()


@pytest.fixture
def stream() -> str:
    return f"test:{uuid4().hex}"


async def test_consumed_entry_stays_pending_until_acked(bus: RedisStreamBus, stream: str) -> None:
    await bus.ensure_group(stream, "g")
    await bus.ensure_group(stream, "g")  # idempotent
    await bus.publish(stream, {"body": "1"})
    [delivery] = await bus.consume(stream, "g", "c1", count=10, block_ms=100)
    assert delivery.fields == {b"body": b"1"}
    assert await bus.consume(stream, "g", "c1", count=10, block_ms=50) == []
    [again] = await bus.pending(stream, "g", "c1", count=10)
    assert again.entry_id == delivery.entry_id
    await bus.ack(delivery)
    assert await bus.pending(stream, "g", "c1", count=10) == []
    assert await bus.read(stream, "0", count=10, block_ms=0) == []  # an acked entry is deleted: done work


async def test_acks_of_several_streams_go_together(bus: RedisStreamBus, stream: str) -> None:
    other = f"{stream}:other"
    for name in (stream, other):
        await bus.ensure_group(name, "g")
        for n in range(3):
            await bus.publish(name, {"n": str(n)})
    delivered = [d for name in (stream, other) for d in await bus.consume(name, "g", "c", count=10, block_ms=100)]
    await bus.ack_many(delivered[1:])
    assert [d.entry_id for d in await bus.pending(stream, "g", "c", count=10)] == [delivered[0].entry_id]
    assert await bus.pending(other, "g", "c", count=10) == []
    assert [fields[b"n"] for _, fields in await bus.read(stream, "0", count=10, block_ms=0)] == [b"0"]


async def test_stale_entries_of_a_dead_consumer_are_claimed(bus: RedisStreamBus, stream: str) -> None:
    await bus.ensure_group(stream, "g")
    await bus.publish(stream, {"body": "x"})
    [lost] = await bus.consume(stream, "g", "dead", count=1, block_ms=100)
    assert await bus.claim_stale(stream, "g", "alive", min_idle_ms=60_000, count=10) == []
    await asyncio.sleep(0.05)
    [claimed] = await bus.claim_stale(stream, "g", "alive", min_idle_ms=10, count=10)
    assert claimed.entry_id == lost.entry_id
    assert [d.entry_id for d in await bus.pending(stream, "g", "alive", count=10)] == [lost.entry_id]


async def test_dead_letter_moves_and_acks(bus: RedisStreamBus, stream: str) -> None:
    await bus.ensure_group(stream, "g")
    await bus.publish(stream, {"body": "garbage"})
    [delivery] = await bus.consume(stream, "g", "c", count=1, block_ms=100)
    await bus.dead_letter(delivery)
    assert await bus.pending(stream, "g", "c", count=10) == []
    newest = await bus.read(DEAD_LETTER, "0", count=100_000, block_ms=0)
    assert any(fields.get(b"source") == stream.encode() for _, fields in newest)


async def test_read_after_last_id_sees_only_newer_entries(bus: RedisStreamBus, stream: str) -> None:
    first = await bus.publish(stream, {"body": "1"})
    await bus.publish(stream, {"body": "2"})
    entries = await bus.read(stream, first, count=10, block_ms=10)
    assert [f[b"body"] for _, f in entries] == [b"2"]


async def test_heartbeats_round_trip(bus: RedisStreamBus) -> None:
    beat = Heartbeat(
        invoker_id=InvokerId(f"i-{uuid4().hex}"), sent_ms=1, user_memory_mb=1, busy_memory_mb=0, containers=0
    )
    await bus.put_heartbeat(beat)
    assert beat in await bus.heartbeats()
    await bus.remove_heartbeat(beat.invoker_id)
    assert beat not in await bus.heartbeats()


async def test_consumer_loop_handles_pending_first_then_new_and_drains(bus: RedisStreamBus, stream: str) -> None:
    await bus.ensure_group(stream, "g")
    await bus.publish(stream, {"body": "before-restart"})
    await bus.consume(stream, "g", "me", count=1, block_ms=100)  # delivered, never acked: a crash
    await bus.publish(stream, {"body": "new"})
    seen: list[bytes] = []
    stop = asyncio.Event()

    async def handle(delivery: object) -> None:
        from core.bus import Delivery

        assert isinstance(delivery, Delivery)
        seen.append(delivery.fields[b"body"])
        await bus.ack(delivery)
        if len(seen) == 2:
            stop.set()

    await asyncio.wait_for(run_consumer(bus, ConsumerSpec(stream, "g", "me", block_ms=100), handle, stop), 10)
    assert seen == [b"before-restart", b"new"]
    assert await bus.pending(stream, "g", "me", count=10) == []


async def test_more_commands_in_flight_than_connections_wait_instead_of_failing(bus: RedisStreamBus) -> None:
    """301 concurrent web requests once failed with 'Too many connections' at redis-py's default limit."""
    reads = await asyncio.gather(*(bus.heartbeats() for _ in range(MAX_CONNECTIONS + 200)))
    assert len(reads) == MAX_CONNECTIONS + 200


async def test_concurrent_publishes_share_round_trips_and_keep_their_order(bus: RedisStreamBus, stream: str) -> None:
    other = f"{stream}:other"
    ids = await asyncio.gather(*(bus.publish(stream if n % 2 else other, {"n": str(n)}) for n in range(1000)))
    assert len(set(ids[1::2])) == len(set(ids[::2])) == 500  # entry ids are per stream
    odd = [int(fields[b"n"]) for _, fields in await bus.read(stream, "0", count=10_000, block_ms=0)]
    even = [int(fields[b"n"]) for _, fields in await bus.read(other, "0", count=10_000, block_ms=0)]
    assert odd == list(range(1, 1000, 2)) and even == list(range(0, 1000, 2))


async def test_a_publish_that_fails_fails_only_its_caller(bus: RedisStreamBus, stream: str) -> None:
    await bus._redis.set(f"{stream}:string", "not a stream")
    good, bad = await asyncio.gather(
        bus.publish(stream, {"n": "1"}), bus.publish(f"{stream}:string", {"n": "2"}), return_exceptions=True
    )
    assert isinstance(good, str) and isinstance(bad, StoreUnavailable)


async def test_a_handler_that_fails_leaves_its_entry_pending_and_the_consumers_go_on(
    bus: RedisStreamBus, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    from core.bus import Delivery

    await bus.ensure_group(stream, "g")
    for body in ("bug", "fine"):
        await bus.publish(stream, {"body": body})
    handled: list[bytes] = []
    stop = asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        if delivery.fields[b"body"] == b"bug":
            raise RuntimeError("a bug in the handler")
        handled.append(delivery.fields[b"body"])
        await bus.ack(delivery)
        stop.set()

    await asyncio.wait_for(run_consumer(bus, ConsumerSpec(stream, "g", "one", block_ms=100), handle, stop), 10)
    assert handled == [b"fine"]
    [left] = await bus.pending(stream, "g", "one", count=10)
    assert left.fields[b"body"] == b"bug" and "left pending to be handled again" in caplog.text

    batches: list[int] = []
    stop = asyncio.Event()
    await bus.publish(stream, {"body": "later"})

    async def handle_batch(deliveries: list[Delivery]) -> None:
        batches.append(len(deliveries))
        if len(batches) == 1:
            raise RuntimeError("a bug in the batch handler")
        stop.set()

    spec = ConsumerSpec(stream, "g", "two", block_ms=100, claim_idle_ms=1_000)
    await asyncio.wait_for(run_batch_consumer(bus, spec, handle_batch, stop), 10)
    assert len(batches) >= 2  # the loop went on after the failed batch (whose entries it then claimed again)
