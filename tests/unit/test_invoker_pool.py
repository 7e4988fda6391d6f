"""Pool decisions and the waiting pool (invoker/pool.py), without containers."""

import asyncio
import time

import pytest

from core.config import StemCells
from core.models import ActivationResponse
from invoker.driver import ContainerHandle
from invoker.pool import (
    ContainerPool,
    PooledContainer,
    PoolTimeout,
    pick_stem_cell,
    pick_victims,
    pick_warm,
    stem_cell_deficit,
)
from tests.simulated_cluster import VirtualLoop

KEY = ("ns", "ns/a", "0.0.1@1")
KIND = "python:3.11"
HANDLE = ContainerHandle("id", "name", "http://10.0.0.2:8080")
FAILED = ActivationResponse(status="action developer error", result={"error": "init failed"})


def ready(
    key: tuple[str, str, str] = KEY, *, active: int = 0, used: float = 0.0, memory: int = 256, concurrency: int = 1
) -> PooledContainer:
    container = PooledContainer(key, KIND, memory, concurrency, handle=HANDLE, active=active, last_used=used)
    container.expect_init()
    container.init_finished(None)
    return container


def stem(memory: int = 256, *, started: bool = True) -> PooledContainer:
    return PooledContainer(None, KIND, memory, 1, handle=HANDLE if started else None)


def deadline(seconds: float = 5) -> float:
    return time.monotonic() + seconds


async def test_warm_needs_the_same_namespace_action_and_revision_and_a_free_slot() -> None:
    mine = ready()
    assert pick_warm([mine], KEY) is mine
    assert pick_warm([mine], ("other-ns", "ns/a", "0.0.1@1")) is None
    assert pick_warm([mine], ("ns", "ns/a", "0.0.2@2")) is None
    assert pick_warm([ready(active=1)], KEY) is None


async def test_a_container_still_initialising_is_shared_only_through_free_slots() -> None:
    starting = PooledContainer(KEY, KIND, 256, 4, active=1)
    starting.expect_init()
    assert pick_warm([starting], KEY) is starting  # concurrency 4: joins, waits for the same /init
    done = ready(concurrency=4, active=2)
    assert pick_warm([starting, done], KEY) is done  # a ready one first
    starting.init_finished(FAILED)
    assert pick_warm([starting], KEY) is None  # a failed init is never handed out again


async def test_concurrency_packs_the_busiest_container_first() -> None:
    light, busy = ready(active=1, concurrency=4), ready(active=3, concurrency=4)
    assert pick_warm([light, busy], KEY) is busy


async def test_victims_are_idle_and_least_recently_used_first_never_stem_cells() -> None:
    old, new, busy = ready(used=1), ready(used=5), ready(active=1, used=0)
    assert pick_victims([new, busy, old], 256, 0) == [old]
    assert pick_victims([new, busy, old], 512, 0) == [old, new]
    assert pick_victims([new, busy, old], 768, 0) is None
    assert pick_victims([old], 256, 256) == []
    assert pick_victims([stem()], 256, 0) is None


async def test_gdsf_evicts_the_least_reused_per_gb_before_the_least_recent() -> None:
    often, once, big_often = ready(used=1), ready(used=5), ready(used=2, memory=1024)
    often.worth, once.worth, big_often.worth = 10 * 1024 / 256, 1 * 1024 / 256, 10 * 1024 / 1024
    assert pick_victims([often, once, big_often], 256, 0, "gdsf") == [once]
    assert pick_victims([often, once, big_often], 512, 0, "gdsf") == [once, big_often]
    assert pick_victims([often, once, big_often], 256, 0, "lru") == [often]


async def test_gdsf_worth_counts_uses_and_ages_with_what_was_evicted() -> None:
    pool = ContainerPool(user_memory_mb=512, eviction="gdsf")
    hot = await pool.acquire(KEY, KIND, 256, 1, deadline())
    hot.container.init_finished(None)
    hot.container.handle = HANDLE
    await pool.release(hot.container, destroy=False)
    for _ in range(3):
        again = await pool.acquire(KEY, KIND, 256, 1, deadline())
        assert again.start == "warm"
        await pool.release(again.container, destroy=False)
    assert hot.container.uses == 4 and hot.container.worth == 4 * 1024 / 256
    other = ("ns", "ns/b", "0.0.1@1")
    cold = await pool.acquire(other, KIND, 256, 1, deadline())
    cold.container.init_finished(None)
    cold.container.handle = HANDLE
    await pool.release(cold.container, destroy=False)  # worth 4: less than hot's 16, though used later
    third = await pool.acquire(("ns", "ns/c", "0.0.1@1"), KIND, 256, 1, deadline())
    assert third.victims == [cold.container]
    assert pool._age == 4.0  # what the next containers' worth starts from


async def test_run_and_cold_start_times_are_moving_averages_kept_for_actions_in_the_pool() -> None:
    pool = ContainerPool(user_memory_mb=512)
    pool._containers.append(ready())
    pool.observe("ns/a", 100.0, 1000.0)
    pool.observe("ns/a", 200.0, None)
    pool.observe("ns/gone", 5.0)
    assert pool.run_times() == {"ns/a": 120}
    assert pool.cold_ms == 1000.0


def patience_case(run_ms: float) -> tuple[str, float]:
    """A busy warm container of KEY (released at t=0.3 s), cold starts measured at 1 s: the next activation?"""
    loop = VirtualLoop()

    async def case() -> tuple[str, float]:
        pool = ContainerPool(user_memory_mb=1024, clock=loop.time)
        pool.observe("ns/a", run_ms, 1000.0)
        busy = ready(active=1)
        pool._containers.append(busy)

        async def finish() -> None:
            await asyncio.sleep(0.3)
            await pool.release(busy, destroy=False)

        task = asyncio.create_task(finish())
        placement = await pool.acquire(KEY, KIND, 256, 1, loop.time() + 60)
        at = loop.time()
        await task
        return placement.start, at

    try:
        return loop.run_until_complete(case())
    finally:
        loop.close()


def test_a_short_expected_wait_for_a_busy_warm_container_beats_a_cold_start() -> None:
    assert patience_case(run_ms=400.0) == ("warm", 0.3)  # expected 400 ms < 1 s: waits, warm at 0.3 s
    assert patience_case(run_ms=5000.0) == ("cold", 0.0)  # expected 5 s > 1 s: cold at once


def test_stem_cells_match_kind_exact_memory_first_once_started() -> None:
    small, big, starting = stem(128), stem(256), stem(256, started=False)
    assert pick_stem_cell([starting, small, big], KIND, 256, free_mb=0) is big
    assert pick_stem_cell([big], "python:3.12", 256, free_mb=1024) is None
    assert pick_stem_cell([starting], KIND, 256, free_mb=1024) is None


def test_a_stem_cell_of_another_size_serves_when_its_growth_fits() -> None:
    small, big = stem(128), stem(512)
    assert pick_stem_cell([small, big], KIND, 256, free_mb=0) is big  # shrinks: always fits
    assert pick_stem_cell([small], KIND, 256, free_mb=128) is small  # grows by 128
    assert pick_stem_cell([small], KIND, 512, free_mb=128) is None  # would grow by 384
    assert pick_stem_cell([small, big], KIND, 192, free_mb=0) is big  # the nearest that fits


def test_stem_cell_deficit_counts_what_exists_and_stops_at_the_budget() -> None:
    specs = [StemCells(kind=KIND, count=2, memory_mb=256), StemCells(kind=KIND, count=1, memory_mb=128)]
    assert stem_cell_deficit([], specs, 2048) == [(KIND, 256), (KIND, 256), (KIND, 128)]
    assert stem_cell_deficit([stem(256, started=False)], specs, 2048) == [(KIND, 256), (KIND, 128)]
    assert stem_cell_deficit([], specs, 300) == [(KIND, 256)]


async def test_cold_then_warm_then_eviction() -> None:
    pool = ContainerPool(user_memory_mb=512, eviction="lru")
    first = await pool.acquire(KEY, KIND, 256, 1, deadline())
    assert first.start == "cold" and first.victims == []
    pool.started(first.container, HANDLE)
    first.container.init_finished(None)
    await pool.release(first.container, destroy=False)
    again = await pool.acquire(KEY, KIND, 256, 1, deadline())
    assert again.start == "warm" and again.container is first.container
    await pool.release(again.container, destroy=False)
    b = await pool.acquire(("ns", "ns/b", "1"), KIND, 256, 1, deadline())
    pool.started(b.container, HANDLE)
    b.container.init_finished(None)
    await pool.release(b.container, destroy=False)
    third = await pool.acquire(("ns", "ns/c", "1"), KIND, 256, 1, deadline())
    assert third.start == "cold" and third.victims == [first.container]  # the least recently used idle one
    assert pool.total_memory_mb == 512


async def test_a_stem_cell_is_taken_for_good_and_a_refill_is_wanted() -> None:
    pool = ContainerPool(user_memory_mb=1024, stem_cells=[StemCells(kind=KIND, count=1, memory_mb=256)])
    assert pool.refill_wanted.is_set()
    [cell] = pool.reserve_stem_cells()
    assert not pool.refill_wanted.is_set() and pool.reserve_stem_cells() == []  # reserved counts as present
    pool.started(cell, HANDLE)
    taken = await pool.acquire(KEY, KIND, 256, 1, deadline())
    assert taken.start == "prewarm" and taken.container is cell and cell.key == KEY
    assert pool.refill_wanted.is_set()
    other = await pool.acquire(("someone-else", "ns/a", "0.0.1@1"), KIND, 256, 1, deadline())
    assert other.start == "cold"  # the initialised cell is never shared with another namespace
    assert pool.states() == {"starting": 1, "busy": 1}


async def test_a_stem_cell_of_another_memory_size_is_taken_and_booked_at_the_actions_size() -> None:
    pool = ContainerPool(user_memory_mb=1024, stem_cells=[StemCells(kind=KIND, count=1, memory_mb=128)])
    [cell] = pool.reserve_stem_cells()
    pool.started(cell, HANDLE)
    taken = await pool.acquire(KEY, KIND, 512, 1, deadline())
    assert taken.start == "prewarm" and taken.container is cell
    assert cell.memory_mb == 512 and pool.total_memory_mb == 512  # the runner's take-over resizes it


async def test_a_stem_cell_is_not_grown_beyond_the_free_memory() -> None:
    pool = ContainerPool(user_memory_mb=640, stem_cells=[StemCells(kind=KIND, count=1, memory_mb=128)])
    [cell] = pool.reserve_stem_cells()
    pool.started(cell, HANDLE)
    busy = await pool.acquire(("ns", "ns/b", "1"), KIND, 256, 1, deadline())  # takes the cell: 256 booked
    assert busy.start == "prewarm"
    [cell] = pool.reserve_stem_cells()
    pool.started(cell, HANDLE)  # 128 + 256 booked, 256 free: growing the cell to 512 does not fit
    with pytest.raises(PoolTimeout):
        await pool.acquire(KEY, KIND, 512, 1, deadline(0.05))
    assert cell.stem_cell and cell.memory_mb == 128


async def test_full_pool_queues_until_a_release() -> None:
    pool = ContainerPool(user_memory_mb=256)
    busy = (await pool.acquire(KEY, KIND, 256, 1, deadline())).container
    pool.started(busy, HANDLE)
    busy.init_finished(None)
    waiting = asyncio.create_task(pool.acquire(("ns", "ns/b", "1"), KIND, 256, 1, deadline()))
    await asyncio.sleep(0.05)
    assert not waiting.done() and pool.waiting == 1
    await pool.release(busy, destroy=False)
    placement = await asyncio.wait_for(waiting, 2)
    assert placement.start == "cold" and placement.victims == [busy] and pool.waiting == 0


async def test_queue_gives_up_at_the_deadline() -> None:
    pool = ContainerPool(user_memory_mb=256)
    await pool.acquire(KEY, KIND, 256, 1, deadline())
    with pytest.raises(PoolTimeout):
        await pool.acquire(("ns", "ns/b", "1"), KIND, 256, 1, deadline(0.05))
    with pytest.raises(PoolTimeout):
        await pool.acquire(KEY, KIND, 1024, 1, deadline())  # can never fit
    assert pool.waiting == 0


async def test_release_with_destroy_reports_who_removes_the_container() -> None:
    pool = ContainerPool(user_memory_mb=512)
    shared = (await pool.acquire(KEY, KIND, 256, 2, deadline())).container
    assert (await pool.acquire(KEY, KIND, 256, 2, deadline())).container is shared
    assert await pool.release(shared, destroy=True) is True
    assert await pool.release(shared, destroy=True) is False  # the other sharer: already taken out


async def test_pausing_and_reaping_take_only_long_idle_containers() -> None:
    pool = ContainerPool(user_memory_mb=1024)
    a = (await pool.acquire(KEY, KIND, 256, 1, deadline())).container
    pool.started(a, HANDLE)
    a.init_finished(None)
    await pool.release(a, destroy=False)
    now = time.monotonic()
    assert pool.to_pause(now, grace_s=10) == [] and pool.to_pause(now + 11, grace_s=10) == [a]
    a.paused = True
    assert pool.to_pause(now + 11, grace_s=10) == [] and pool.states() == {"paused": 1}
    assert await pool.reap_idle(now, idle_ttl_s=60) == []
    assert await pool.reap_idle(now + 61, idle_ttl_s=60) == [a]
    assert pool.container_count == 0


async def test_under_contention_a_waiter_reuses_its_own_container_instead_of_evicting_one_wanted() -> None:
    pool = ContainerPool(user_memory_mb=512)
    a_key, b_key = KEY, ("ns", "ns/b", "1")
    a1 = (await pool.acquire(a_key, KIND, 256, 1, deadline())).container
    b1 = (await pool.acquire(b_key, KIND, 256, 1, deadline())).container
    for container in (a1, b1):
        pool.started(container, HANDLE)
        container.init_finished(None)
    b_waiter = asyncio.create_task(pool.acquire(b_key, KIND, 256, 1, deadline()))  # the older waiter
    await asyncio.sleep(0.01)
    a_waiter = asyncio.create_task(pool.acquire(a_key, KIND, 256, 1, deadline()))
    await asyncio.sleep(0.01)
    await pool.release(a1, destroy=False)  # b's waiter must not cold-start over a1: a's waiter wants it
    a_placed = await asyncio.wait_for(a_waiter, 2)
    assert a_placed.start == "warm" and a_placed.container is a1 and not b_waiter.done()
    await pool.release(b1, destroy=False)
    b_placed = await asyncio.wait_for(b_waiter, 2)
    assert b_placed.start == "warm" and b_placed.container is b1 and pool.container_count == 2


async def test_an_action_without_a_container_may_evict_one_that_others_want() -> None:
    pool = ContainerPool(user_memory_mb=256)
    a1 = (await pool.acquire(KEY, KIND, 256, 1, deadline())).container
    pool.started(a1, HANDLE)
    a1.init_finished(None)
    a_waiter = asyncio.create_task(pool.acquire(KEY, KIND, 256, 1, deadline()))  # wants a1 once free ...
    await asyncio.sleep(0.01)
    c_waiter = asyncio.create_task(pool.acquire(("ns", "ns/c", "1"), KIND, 256, 1, deadline()))
    await asyncio.sleep(0.01)
    await pool.release(a1, destroy=False)
    first = await asyncio.wait_for(a_waiter, 2)  # ... and, older, gets it first
    await pool.release(first.container, destroy=False)
    c_placed = await asyncio.wait_for(c_waiter, 2)  # then c, which has no container at all, may take its memory
    assert c_placed.start == "cold" and c_placed.victims == [a1]
