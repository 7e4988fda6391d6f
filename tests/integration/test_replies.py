"""ReplyWaiter against a real redis-server: a blocking caller gets its record, or None once its wait ran out."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from core.bus import RedisStreamBus
from core.messages import ending_fields
from core.models import Activation
from core.replies import ReplyWaiter
from tests.factories import make_activation


async def reply(bus: RedisStreamBus, stream: str, activation: Activation) -> None:
    """What an invoker appends to a blocking caller's reply stream as an activation ends (invoker.service)."""
    await bus.publish(stream, ending_fields(activation)[1])


@pytest.fixture
async def waiter(redis_url: str) -> AsyncIterator[tuple[RedisStreamBus, ReplyWaiter]]:
    bus = RedisStreamBus.from_url(redis_url)
    replies = ReplyWaiter(bus, f"test:replies:{uuid4().hex}")
    replies.start()
    yield bus, replies
    await replies.stop()
    await bus.close()


async def test_a_waiting_caller_gets_its_record(waiter: tuple[RedisStreamBus, ReplyWaiter]) -> None:
    bus, replies = waiter
    record, other = make_activation(), make_activation()
    future = replies.expect(record.activation_id)
    for activation in (other, record):  # a reply nobody waits for is skipped
        await reply(bus, replies.stream, activation)
    answer = await replies.wait(future, record.activation_id, 10)
    assert answer == record


async def test_a_wait_that_runs_out_answers_none_and_a_late_reply_is_ignored(
    waiter: tuple[RedisStreamBus, ReplyWaiter],
) -> None:
    bus, replies = waiter
    late = make_activation()
    future = replies.expect(late.activation_id)
    assert await replies.wait(future, late.activation_id, 0.2) is None
    await reply(bus, replies.stream, late)
    on_time = make_activation()  # the listener is still alive after the late one
    future = replies.expect(on_time.activation_id)
    await reply(bus, replies.stream, on_time)
    assert await replies.wait(future, on_time.activation_id, 10) == on_time


async def test_a_caller_cancelled_while_waiting_is_forgotten(waiter: tuple[RedisStreamBus, ReplyWaiter]) -> None:
    _, replies = waiter
    record = make_activation()
    future = replies.expect(record.activation_id)
    task = asyncio.create_task(replies.wait(future, record.activation_id, 10))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert record.activation_id not in replies._waiting


async def test_a_woken_caller_resumes_before_the_listener_sends_its_next_read(
    waiter: tuple[RedisStreamBus, ReplyWaiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's answer is the hot path; the listener's next blocking read can wait one loop turn."""
    bus, replies = waiter
    events: list[str] = []
    read = bus.read

    async def recorded_read(*args: object, **kwargs: object) -> object:
        events.append("read sent")
        return await read(*args, **kwargs)  # type: ignore[arg-type]

    async def caller(activation: Activation) -> Activation | None:
        future = replies.expect(activation.activation_id)
        answer = await replies.wait(future, activation.activation_id, 10)
        events.append("caller resumed")
        return answer  # type: ignore[return-value]

    monkeypatch.setattr(bus, "read", recorded_read)
    for _ in range(2):  # the first reply also renews and trims the stream: round trips of their own
        record = make_activation()
        waiting = asyncio.create_task(caller(record))
        await asyncio.sleep(0.05)  # the caller waits, the listener is in its blocking read
        events.clear()
        await reply(bus, replies.stream, record)
        assert await waiting == record
        await asyncio.sleep(0.05)
    assert events == ["caller resumed", "read sent"]
