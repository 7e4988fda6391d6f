"""The container pool: which container an activation runs in, within a memory budget.

Pure decisions first, then the asyncio state around them. For each activation, in order:

1. **warm**: a container of the same key — (invoking namespace, action fqn, action revision) — with a
  free concurrency slot; ready ones first, then one still initialising (the activation then waits for
  that /init and shares its outcome). Containers never cross namespaces or revisions.
2. **prewarm**: a started stem cell of the action's kind — of exactly its memory size if there is one,
  else the nearest size whose growth fits in the free memory (`invoker.takeover` sets the container's
  limit to the action's before /init). It takes the key for good (never shared across namespaces once
  initialised) and a replacement is wanted.
3. **cold**: a new container, if its memory fits in the invoker's user-memory budget.
4. **evict**: idle keyed containers (never stem cells), least recently used first, until it fits —
   but while this action has containers of its own (busy ones free soon), not the idle containers
   other waiting activations want: under contention each waiter reuses its own warm container instead
   of cold-starting over another's (which costs a cold start per release, measured: the pool churned).
5. Otherwise the activation waits until a release frees capacity, or its deadline passes.

Example: budget 512 MB, idle A (256 MB, used at t=1) and B (256 MB, used at t=5), a new 256 MB action
arrives: free = 0, so A (the least recently used) is evicted and the new container takes its memory.

Every container, stem cells and starting ones included, holds its memory from the moment it is reserved.
Paused containers are idle: reusable (the runner unpauses) and evictable. Caveat: a stem cell shrunk for a
smaller action frees its memory here at once, some 20 ms before the engine lowers its limit.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.config import Eviction, StemCells
from core.models import ActivationResponse
from invoker.driver import ContainerHandle

log = logging.getLogger(__name__)

PoolKey = tuple[str, str, str]  # (invoking namespace, action fqn, action revision)
StartType = Literal["warm", "prewarm", "cold"]
STATES = ("prewarm", "starting", "busy", "idle", "paused")
SMOOTHING = 0.2  # weight of the newest measurement in the run / cold-start moving averages


class PoolTimeout(Exception):
    """No capacity freed before the activation's deadline."""


@dataclass(eq=False)
class PooledContainer:
    key: PoolKey | None  # None: a stem cell, started but not yet given an action
    kind: str
    memory_mb: int
    concurrency: int
    handle: ContainerHandle | None = None  # None until the container started
    active: int = 0
    last_used: float = field(default_factory=time.monotonic)
    paused: bool = False
    uses: int = 0  # activations it ran or runs
    worth: float = 0.0  # gdsf: the pool's age when last used + uses / memory (a GB); the least worth goes first
    # Resolved when /init finished: None when it succeeded, else the response every sharer ends with.
    initialized: "asyncio.Future[ActivationResponse | None] | None" = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # serialises pause / unpause against use
    retired: bool = False  # its action was deleted or rewritten: never reused, removed once its runs end

    @property
    def ready(self) -> bool:
        """Started and initialised successfully: a warm container."""
        done = self.initialized
        return (
            self.key is not None
            and self.handle is not None
            and done is not None
            and done.done()
            and done.result() is None
        )

    @property
    def stem_cell(self) -> bool:
        return self.key is None

    @property
    def idle(self) -> bool:
        return self.ready and self.active == 0

    @property
    def state(self) -> str:
        if self.handle is None:
            return "starting"
        if self.key is None:
            return "prewarm"
        if self.active:
            return "busy"
        return "paused" if self.paused else "idle"

    def expect_init(self) -> None:
        self.initialized = asyncio.get_running_loop().create_future()

    def init_finished(self, failure: ActivationResponse | None) -> None:
        if self.initialized is not None and not self.initialized.done():
            self.initialized.set_result(failure)


def pick_warm(containers: Sequence[PooledContainer], key: PoolKey) -> PooledContainer | None:
    """A container of this key with a free slot: ready ones first, then the busiest (packs concurrency)."""
    candidates = [
        c for c in containers if c.key == key and c.active < c.concurrency and not c.retired and not _failed(c)
    ]
    return max(candidates, key=lambda c: (c.ready, c.active, c.last_used), default=None)


def _failed(container: PooledContainer) -> bool:
    done = container.initialized
    return done is not None and done.done() and done.result() is not None


def pick_stem_cell(
    containers: Sequence[PooledContainer], kind: str, memory_mb: int, free_mb: int
) -> PooledContainer | None:
    """A started stem cell of `kind`, the nearest in size (exact first); growing one must fit in `free_mb`."""
    cells = [
        c
        for c in containers
        if c.stem_cell and c.handle is not None and c.kind == kind and memory_mb - c.memory_mb <= free_mb
    ]
    return min(cells, key=lambda c: abs(c.memory_mb - memory_mb), default=None)


def pick_victims(
    containers: Sequence[PooledContainer], needed_mb: int, free_mb: int, eviction: Eviction = "lru"
) -> list[PooledContainer] | None:
    """Idle containers to remove so `needed_mb` fits, None if it cannot: least recently used first (lru), or
    least worth first (gdsf: Greedy-Dual-Size-Frequency, reuse count per GB aged by the pool's clock)."""
    order = (lambda c: c.last_used) if eviction == "lru" else (lambda c: (c.worth, c.last_used))
    victims: list[PooledContainer] = []
    for container in sorted((c for c in containers if c.idle), key=order):
        if free_mb >= needed_mb:
            break
        victims.append(container)
        free_mb += container.memory_mb
    return victims if free_mb >= needed_mb else None


def stem_cell_deficit(
    containers: Sequence[PooledContainer], specs: Iterable[StemCells], free_mb: int
) -> list[tuple[str, int]]:
    """(kind, memory_mb) of each stem cell to start now, as far as the free memory allows."""
    have = Counter((c.kind, c.memory_mb) for c in containers if c.stem_cell)
    wanted: list[tuple[str, int]] = []
    for spec in specs:
        for _ in range(spec.count - have[(spec.kind, spec.memory_mb)]):
            if spec.memory_mb > free_mb:
                return wanted
            free_mb -= spec.memory_mb
            wanted.append((spec.kind, spec.memory_mb))
    return wanted


@dataclass(frozen=True)
class Placement:
    container: PooledContainer
    start: StartType
    victims: list[PooledContainer]  # taken out of the pool: the caller removes them


class ContainerPool:
    def __init__(
        self,
        user_memory_mb: int,
        stem_cells: Sequence[StemCells] = (),
        clock: Callable[[], float] = time.monotonic,
        eviction: Eviction = "gdsf",
    ) -> None:
        self.user_memory_mb = user_memory_mb
        self.eviction = eviction
        self._age = 0.0  # gdsf: the worth of the last container evicted (older containers lose to newer ones)
        self.stem_cells = tuple(stem_cells)
        self.clock = clock  # seconds; a simulation passes its virtual clock
        self._run_ms: dict[str, float] = {}  # by action fqn
        self.cold_ms: float | None = None
        self._containers: list[PooledContainer] = []
        self._changed = asyncio.Condition()
        self._wanted: Counter[PoolKey] = Counter()  # keys of the activations queued for capacity
        self.refill_wanted = asyncio.Event()  # set when a stem cell was taken or lost
        if self.stem_cells:
            self.refill_wanted.set()

    @property
    def containers(self) -> list[PooledContainer]:
        return list(self._containers)

    @property
    def waiting(self) -> int:
        """Activations queued for capacity."""
        return self._wanted.total()

    @property
    def total_memory_mb(self) -> int:
        return sum(c.memory_mb for c in self._containers)

    @property
    def busy_memory_mb(self) -> int:
        return sum(c.memory_mb for c in self._containers if c.active or c.handle is None)

    @property
    def container_count(self) -> int:
        return len(self._containers)

    def states(self) -> Counter[str]:
        return Counter(c.state for c in self._containers)

    async def acquire(self, key: PoolKey, kind: str, memory_mb: int, concurrency: int, deadline: float) -> Placement:
        """A container with a slot taken for this activation; for cold starts, a reservation to start."""
        if memory_mb > self.user_memory_mb:
            raise PoolTimeout(f"the action needs {memory_mb} MB, more than this invoker's {self.user_memory_mb} MB")
        async with self._changed:
            self._wanted[key] += 1
            try:
                patient_until = self.clock() + self._patience_s(key, kind)
                while True:
                    cold_ok = self.clock() >= patient_until
                    if placement := self._place(key, kind, memory_mb, concurrency, cold_ok=cold_ok):
                        return placement
                    remaining = deadline - self.clock()
                    if remaining <= 0:
                        raise PoolTimeout("no container capacity became free in time")
                    if not cold_ok:
                        remaining = min(remaining, patient_until - self.clock())
                    try:
                        await asyncio.wait_for(self._changed.wait(), remaining)
                    except TimeoutError:
                        pass
            finally:
                self._wanted[key] -= 1
                self._wanted += Counter()  # drop keys nobody waits for

    def _patience_s(self, key: PoolKey, kind: str) -> float:
        """How long to wait for a busy warm container of `key` rather than cold-start one: a cold start's
        cost when the expected wait (the usual run time / busy slots) is shorter, else 0. Only the first
        waiter is patient: more waiting means demand outgrew the containers, and a cold start adds one.
        Not with a stem cell of the kind at hand, nor before a run and a cold start were measured."""
        run_ms, busy = self._run_ms.get(key[1]), [c for c in self._containers if c.key == key and c.ready]
        if run_ms is None or self.cold_ms is None or not busy:
            return 0.0
        if any(c.stem_cell and c.handle is not None and c.kind == kind for c in self._containers):
            return 0.0
        if self._wanted[key] > 1:  # others wait already: demand outgrows the containers, start one more
            return 0.0
        expected_ms = run_ms / sum(c.concurrency for c in busy)
        return self.cold_ms / 1000 if expected_ms < self.cold_ms else 0.0

    def _place(
        self, key: PoolKey, kind: str, memory_mb: int, concurrency: int, *, cold_ok: bool = True
    ) -> Placement | None:
        warm = pick_warm(self._containers, key)
        if warm is not None:
            warm.active += 1
            warm.uses += 1
            return Placement(warm, "warm", [])
        if not cold_ok:
            return None
        stem = pick_stem_cell(self._containers, kind, memory_mb, self.user_memory_mb - self.total_memory_mb)
        if stem is not None:
            stem.key, stem.concurrency, stem.active, stem.memory_mb = key, concurrency, 1, memory_mb
            stem.uses = 1
            stem.expect_init()
            self.refill_wanted.set()
            return Placement(stem, "prewarm", [])
        free = self.user_memory_mb - self.total_memory_mb
        victims = pick_victims(self._evictable(key), memory_mb, free, self.eviction)
        if victims is None:
            return None
        for victim in victims:
            self._containers.remove(victim)
            self._age = max(self._age, victim.worth)
        reserved = PooledContainer(key, kind, memory_mb, concurrency, active=1, last_used=self.clock(), uses=1)
        reserved.expect_init()
        self._containers.append(reserved)
        return Placement(reserved, "cold", victims)

    def _evictable(self, key: PoolKey) -> list[PooledContainer]:
        if not any(c.key == key for c in self._containers):
            return self._containers  # its first container: anything idle may go (no waiter starves)
        return [c for c in self._containers if c.key is None or c.key == key or not self._wanted[c.key]]

    def reserve_stem_cells(self) -> list[PooledContainer]:
        """Reservations for the stem cells missing now (no eviction for them); the caller starts each."""
        self.refill_wanted.clear()
        free = self.user_memory_mb - self.total_memory_mb
        reserved = [
            PooledContainer(None, kind, memory_mb, 1, last_used=self.clock())
            for kind, memory_mb in stem_cell_deficit(self._containers, self.stem_cells, free)
        ]
        self._containers.extend(reserved)
        return reserved

    def started(self, container: PooledContainer, handle: ContainerHandle) -> None:
        container.handle = handle

    async def release(self, container: PooledContainer, *, destroy: bool) -> bool:
        """The activation is done with it. `destroy` takes it out of the pool; True when that happened
        now, and the caller must remove the container (a sharer may have taken it out already)."""
        async with self._changed:
            container.active = max(0, container.active - 1)
            container.last_used = self.clock()
            container.worth = self._age + container.uses * 1024 / max(container.memory_mb, 1)
            removed = destroy and self._discard(container)
            self._changed.notify_all()
            return removed

    async def discard(self, container: PooledContainer) -> bool:
        """Take a container out (a stem cell that failed to start); True when the caller must remove it."""
        async with self._changed:
            removed = self._discard(container)
            self._changed.notify_all()
            return removed

    def _discard(self, container: PooledContainer) -> bool:
        if container not in self._containers:
            return False
        self._containers.remove(container)
        if container.stem_cell:
            self.refill_wanted.set()
        return True

    async def retire(self, fqn: str, current_revision: str | None) -> list[PooledContainer]:
        """The action `fqn` was deleted (`current_revision` None) or rewritten: its containers of other
        revisions will never be used again. The idle (and paused) ones are taken out now and returned for
        the caller to remove; busy and starting ones are marked and go when their activations end."""
        async with self._changed:
            taken = []
            for container in list(self._containers):
                key = container.key
                if key is None or key[1] != fqn or key[2] == current_revision:
                    continue
                container.retired = True
                if container.active == 0 and container.handle is not None:
                    self._containers.remove(container)
                    taken.append(container)
            if taken:
                self._changed.notify_all()
            return taken

    def observe(self, fqn: str, run_ms: float | None, cold_ms: float | None = None) -> None:
        """Measured: one /run of the action took `run_ms`; a cold start here took `cold_ms`."""
        if run_ms is not None:
            self._run_ms[fqn] = _smooth(self._run_ms.get(fqn), run_ms)
        if cold_ms is not None:
            self.cold_ms = _smooth(self.cold_ms, cold_ms)

    def run_times(self) -> dict[str, int]:
        """The usual /run time of each action with a container here (others are forgotten)."""
        present = {c.key[1] for c in self._containers if c.key is not None}
        self._run_ms = {fqn: ms for fqn, ms in self._run_ms.items() if fqn in present}
        return {fqn: round(ms) for fqn, ms in self._run_ms.items()}

    def to_pause(self, now: float, grace_s: float) -> list[PooledContainer]:
        return [c for c in self._containers if c.idle and not c.paused and now - c.last_used >= grace_s]

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


def _smooth(average: float | None, sample: float) -> float:
    return sample if average is None else average + SMOOTHING * (sample - average)
