"""Pool decisions and the waiting pool (invoker/pool.py), without containers."""

import asyncio
import time

import pytest

from invoker.driver import ContainerHandle
from invoker.pool import ContainerPool, PooledContainer, PoolTimeout, pick_victims, pick_warm

KEY = ("ns", "ns/a", "0.0.1@1")
HANDLE = ContainerHandle("id", "name", "http://10.0.0.2:8080")


def ready(
    key: tuple[str, str, str] = KEY, *, active: int = 0, used: float = 0.0, memory: int = 256, concurrency: int = 1
) -> PooledContainer:
    return PooledContainer(key, memory, concurrency, handle=HANDLE, active=active, last_used=used)


def test_warm_needs_the_same_namespace_action_and_revision_and_a_free_slot() -> None:
    mine = ready()
    assert pick_warm([mine], KEY) is mine
    assert pick_warm([mine], ("other-ns", "ns/a", "0.0.1@1")) is None
    assert pick_warm([mine], ("ns", "ns/a", "0.0.2@2")) is None
    assert pick_warm([ready(active=1)], KEY) is None
    assert pick_warm([PooledContainer(KEY, 256, 1)], KEY) is None  # still starting


def test_concurrency_packs_the_busiest_container_first() -> None:
    light, busy = ready(active=1, concurrency=4), ready(active=3, concurrency=4)
    assert pick_warm([light, busy], KEY) is busy


def test_victims_are_idle_and_least_recently_used_first() -> None:
    old, new, busy = ready(used=1), ready(used=5), ready(active=1, used=0)
    assert pick_victims([new, busy, old], 256, 0) == [old]
    assert pick_victims([new, busy, old], 512, 0) == [old, new]
    assert pick_victims([new, busy, old], 768, 0) is None
    assert pick_victims([old], 256, 256) == []


async def test_cold_then_warm_then_eviction() -> None:
    pool = ContainerPool(user_memory_mb=512)
    deadline = time.monotonic() + 5
    first, start, victims = await pool.acquire(KEY, 256, 1, deadline)
    assert start == "cold" and victims == []
    pool.started(first, HANDLE)
    await pool.release(first, destroy=False)
    again, start, _ = await pool.acquire(KEY, 256, 1, deadline)
    assert start == "warm" and again is first
    await pool.release(again, destroy=False)
    other_key = ("ns", "ns/b", "1")
    b, _, _ = await pool.acquire(other_key, 256, 1, deadline)
    pool.started(b, HANDLE)
    await pool.release(b, destroy=False)
    third, start, victims = await pool.acquire(("ns", "ns/c", "1"), 256, 1, deadline)
    assert start == "cold" and victims == [first]  # the least recently used idle one
    assert pool.total_memory_mb == 512


async def test_full_pool_queues_until_a_release() -> None:
    pool = ContainerPool(user_memory_mb=256)
    busy, _, _ = await pool.acquire(KEY, 256, 1, time.monotonic() + 5)
    pool.started(busy, HANDLE)
    waiting = asyncio.create_task(pool.acquire(("ns", "ns/b", "1"), 256, 1, time.monotonic() + 5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await pool.release(busy, destroy=False)
    container, start, victims = await asyncio.wait_for(waiting, 2)
    assert start == "cold" and victims == [busy]


async def test_queue_gives_up_at_the_deadline() -> None:
    pool = ContainerPool(user_memory_mb=256)
    await pool.acquire(KEY, 256, 1, time.monotonic() + 5)
    with pytest.raises(PoolTimeout):
        await pool.acquire(("ns", "ns/b", "1"), 256, 1, time.monotonic() + 0.05)
    with pytest.raises(PoolTimeout):
        await pool.acquire(KEY, 1024, 1, time.monotonic() + 5)  # can never fit


async def test_reaping_takes_only_long_idle_containers() -> None:
    pool = ContainerPool(user_memory_mb=1024)
    a, _, _ = await pool.acquire(KEY, 256, 1, time.monotonic() + 5)
    pool.started(a, HANDLE)
    await pool.release(a, destroy=False)
    assert await pool.reap_idle(time.monotonic(), idle_ttl_s=60) == []
    assert await pool.reap_idle(time.monotonic() + 61, idle_ttl_s=60) == [a]
    assert pool.container_count == 0
