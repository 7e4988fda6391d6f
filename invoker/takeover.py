"""A stem cell taken over by an action of another memory size gets that size before its /init.

Stem cells are matched by kind only (`invoker.pool.pick_stem_cell`), so one prewarmed pool serves every
memory size: the pool books the action's memory at placement, and this sets the container's own limits
(memory = swap, CPU shares) to match through the engine before any of the action's code runs. Measured
here: a `docker update` of the memory limit costs ≈ 15–25 ms, against ≈ 300+ ms for a cold start
(`tests/bench/bench_pool.py` prints both).
"""

import dataclasses
import logging

from core.models import ActivationResponse
from invoker import outcome
from invoker.driver import ContainerDriver, ContainerError
from invoker.pool import PooledContainer

log = logging.getLogger(__name__)


def cpu_shares(memory_mb: int, user_memory_mb: int) -> int:
    """CPU shares proportional to memory, as OpenWhisk gives them (a full invoker's worth is 1024)."""
    return max(2, 1024 * memory_mb // user_memory_mb)


async def take_over(
    driver: ContainerDriver, container: PooledContainer, user_memory_mb: int
) -> ActivationResponse | None:
    """Give a started stem cell its action's limits; a response when that failed (the activation ends)."""
    handle = container.handle
    assert handle is not None
    if handle.memory_mb == container.memory_mb:
        return None
    try:
        await driver.set_memory(
            handle.container_id, container.memory_mb, cpu_shares(container.memory_mb, user_memory_mb)
        )
    except ContainerError as exc:
        log.error("stem cell %s: %s", handle.name, exc)
        return outcome.not_provisioned("the prewarmed container could not be given the action's memory limit")
    container.handle = dataclasses.replace(handle, memory_mb=container.memory_mb)
    return None
