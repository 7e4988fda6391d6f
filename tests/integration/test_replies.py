"""ReplyWaiter against a real redis-server: a blocking caller gets its record, or None once its wait ran out."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from core.bus import RedisStreamBus
from core.messages import Completion
from core.replies import ReplyWaiter
from tests.factories import make_activation


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
        await bus.publish(
            replies.stream, Completion(activation_id=activation.activation_id, activation=activation).to_fields()
        )
    answer = await replies.wait(future, record.activation_id, 10)
    assert answer == record


async def test_a_wait_that_runs_out_answers_none_and_a_late_reply_is_ignored(
    waiter: tuple[RedisStreamBus, ReplyWaiter],
) -> None:
    bus, replies = waiter
    late = make_activation()
    future = replies.expect(late.activation_id)
    assert await replies.wait(future, late.activation_id, 0.2) is None
    await bus.publish(replies.stream, Completion(activation_id=late.activation_id, activation=late).to_fields())
    on_time = make_activation()  # the listener is still alive after the late one
    future = replies.expect(on_time.activation_id)
    await bus.publish(replies.stream, Completion(activation_id=on_time.activation_id, activation=on_time).to_fields())
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
