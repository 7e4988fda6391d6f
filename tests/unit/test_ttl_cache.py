"""core.ttl_cache: one load per key at a time, values kept for their time to live."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from core.errors import StoreUnavailable
from core.ttl_cache import TTLCache


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


async def test_a_store_outage_is_ridden_out_on_the_last_value_within_the_grace() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=0.01, stale_s=0.2)
    answers: list[int | Exception] = [1, StoreUnavailable("down"), StoreUnavailable("down"), 2]

    async def load() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await cache.get("k", load) == 1
    await asyncio.sleep(0.02)
    assert await cache.get("k", load) == 1  # the store is down: the last value, within the grace
    await asyncio.sleep(0.25)
    with pytest.raises(StoreUnavailable):  # past the grace: the outage shows
        await cache.get("k", load)
    assert await cache.get("k", load) == 2


async def test_other_failures_are_not_hidden_by_the_grace() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=0.01, stale_s=60)
    assert await cache.get("k", _value(1)) == 1
    await asyncio.sleep(0.02)
    with pytest.raises(ValueError):
        await cache.get("k", _fails(ValueError("a bug")))


def _value(value: int) -> Callable[[], Awaitable[int]]:
    async def load() -> int:
        return value

    return load


def _fails(exc: Exception) -> Callable[[], Awaitable[int]]:
    async def load() -> int:
        raise exc

    return load
