"""stratus.ttl_cache: one load per key at a time, values kept for their time to live."""

import asyncio

import pytest

from stratus.ttl_cache import TTLCache


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=60)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return 7

    assert await asyncio.gather(*(cache.get("k", load) for _ in range(30))) == [7] * 30
    assert await cache.get("k", load) == 7
    assert loads == 1


async def test_values_expire_and_are_loaded_again() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=0.01)
    values = iter([1, 2])

    async def load() -> int:
        return next(values)

    assert await cache.get("k", load) == 1
    await asyncio.sleep(0.02)
    assert await cache.get("k", load) == 2


async def test_values_it_should_not_keep_are_loaded_every_time_and_invalidate_drops() -> None:
    cache: TTLCache[str, int | None] = TTLCache(ttl_s=60)
    values = iter([None, 5, 6])

    async def load() -> int | None:
        return next(values)

    assert await cache.get("k", load) is None  # falsy: not kept by default
    assert await cache.get("k", load) == 5
    assert await cache.get("k", load) == 5
    cache.invalidate("k")
    assert await cache.get("k", load) == 6


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=60)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("store down")
        return 3

    results = await asyncio.gather(*(cache.get("k", load) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await cache.get("k", load) == 3


async def test_zero_ttl_keeps_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=0)
    values = iter([1, 2])

    async def load() -> int:
        return next(values)

    assert [await cache.get("k", load), await cache.get("k", load)] == [1, 2]
    with pytest.raises(StopIteration):
        next(values)
