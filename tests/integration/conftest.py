"""Fixtures of the invoker's integration tests: the Docker engine, a runner harness; the event loops."""

import asyncio
from collections.abc import Callable, Mapping

import pytest
import uvloop

from tests.invoker_harness import engine, harness

__all__ = ["engine", "harness"]

BOTH_LOOPS = ("test_redis_lane.py",)  # code that holds transports of its own: uvloop's are other classes


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """These modules' tests run on asyncio's loop and on uvloop, which every service runs on; the others on
    asyncio's only, under their own names (pytest-asyncio wants a mapping for every test once this is defined)."""
    if item.path.name in BOTH_LOOPS:
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}
