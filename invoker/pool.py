"""The container pool: which container an activation runs in, within a memory budget.

Pure decisions first, then the asyncio state around them.

- `pick_warm`: a ready container of the same key — (invoking namespace, action fqn, action
  revision) — with a free concurrency slot. Containers never cross namespaces or revisions.
- Otherwise a cold container, if its memory fits in the invoker's user-memory budget.
- Otherwise `pick_victims`: idle containers, least recently used first, until enough memory frees.
- Otherwise the activation waits (FIFO on the condition) until a release frees capacity, or its
  deadline passes.

Example: budget 512 MB, idle A (256 MB, used at t=1) and B (256 MB, used at t=5), a new 256 MB action
arrives: free = 0, so A (the least recently used) is evicted and the new container takes its memory.

Caveats: eviction counts only idle containers; a container being started holds its memory from the
moment it is reserved. Prewarmed stem cells and pausing come later (another issue).
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from invoker.driver import ContainerHandle

log = logging.getLogger(__name__)

PoolKey = tuple[str, str, str]  # (invoking namespace, action fqn, action revision)
StartType = Literal["warm", "cold"]


class PoolTimeout(Exception):
    """No capacity freed before the activation's deadline."""


@dataclass(eq=False)
class PooledContainer:
    key: PoolKey
    memory_mb: int
    concurrency: int
    handle: ContainerHandle | None = None  # None until the cold start finished
    active: int = 0
    last_used: float = field(default_factory=time.monotonic)

    @property
    def ready(self) -> bool:
        return self.handle is not None

    @property
    def idle(self) -> bool:
        return self.ready and self.active == 0


def pick_warm(containers: Sequence[PooledContainer], key: PoolKey) -> PooledContainer | None:
    """The busiest ready container of this key that still has a free slot (packs concurrency)."""
    candidates = [c for c in containers if c.key == key and c.ready and c.active < c.concurrency]
    return max(candidates, key=lambda c: (c.active, c.last_used), default=None)


def pick_victims(containers: Sequence[PooledContainer], needed_mb: int, free_mb: int) -> list[PooledContainer] | None:
    """Idle containers to remove, least recently used first, so `needed_mb` fits; None if it cannot."""
    victims: list[PooledContainer] = []
    for container in sorted((c for c in containers if c.idle), key=lambda c: c.last_used):
        if free_mb >= needed_mb:
            break
        victims.append(container)
        free_mb += container.memory_mb
    return victims if free_mb >= needed_mb else None


class ContainerPool:
    def __init__(self, user_memory_mb: int) -> None:
        self.user_memory_mb = user_memory_mb
        self._containers: list[PooledContainer] = []
        self._changed = asyncio.Condition()

    @property
    def total_memory_mb(self) -> int:
        return sum(c.memory_mb for c in self._containers)

    @property
    def busy_memory_mb(self) -> int:
        return sum(c.memory_mb for c in self._containers if c.active or not c.ready)

    @property
    def container_count(self) -> int:
        return len(self._containers)

    async def acquire(
        self, key: PoolKey, memory_mb: int, concurrency: int, deadline: float
    ) -> tuple[PooledContainer, StartType, list[PooledContainer]]:
        """A warm container, or a reservation for a cold one plus the victims the caller must remove."""
        if memory_mb > self.user_memory_mb:
            raise PoolTimeout(f"the action needs {memory_mb} MB, more than this invoker's {self.user_memory_mb} MB")
        async with self._changed:
            while True:
                if chosen := self._try(key, memory_mb, concurrency):
                    return chosen
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout("no container capacity became free in time")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    def _try(
        self, key: PoolKey, memory_mb: int, concurrency: int
    ) -> tuple[PooledContainer, StartType, list[PooledContainer]] | None:
        warm = pick_warm(self._containers, key)
        if warm is not None:
            warm.active += 1
            return warm, "warm", []
        victims = pick_victims(self._containers, memory_mb, self.user_memory_mb - self.total_memory_mb)
        if victims is None:
            return None
        for victim in victims:
            self._containers.remove(victim)
        reserved = PooledContainer(key, memory_mb, concurrency, active=1)
        self._containers.append(reserved)
        return reserved, "cold", victims

    def started(self, container: PooledContainer, handle: ContainerHandle) -> None:
        container.handle = handle

    async def release(self, container: PooledContainer, *, destroy: bool) -> None:
        """The activation is done with it; `destroy` takes it out of the pool (the caller removes it)."""
        async with self._changed:
            container.active = max(0, container.active - 1)
            container.last_used = time.monotonic()
            if destroy and container in self._containers:
                self._containers.remove(container)
            self._changed.notify_all()

    async def reap_idle(self, now: float, idle_ttl_s: float) -> list[PooledContainer]:
        """Take idle containers unused for `idle_ttl_s` out of the pool; the caller removes them."""
        async with self._changed:
            expired = [c for c in self._containers if c.idle and now - c.last_used >= idle_ttl_s]
            for container in expired:
                self._containers.remove(container)
            if expired:
                self._changed.notify_all()
            return expired

    def drain(self) -> list[PooledContainer]:
        """Everything, for shutdown."""
        drained, self._containers = self._containers, []
        return drained
