"""Pure placement: which invoker runs an activation.

OpenWhisk's sharding idea. The *ring* is every invoker the cluster knows (healthy or not), ordered by
id, so every controller sees the same ring and an action keeps its home when another node goes down.
An action's *home* is `crc32(namespace/action) % n`, where a warm container most likely waits; from
there we walk the ring with a step co-prime with n (also derived from the hash, from the pairwise
co-prime step sizes), so that actions sharing a home spread differently when it is full. Nodes that
are not healthy are skipped. The first healthy invoker with room wins.

Room is counted in memory slots booked by in-flight activations (by every controller: the books are
in Redis). An action with concurrency c > 1 takes the memory of one container for its 1st, (c+1)th,
... activation on an invoker; the others use a free concurrency slot of a container already booked.

When nobody has room, the *least-loaded* healthy invoker (booked / user memory) takes it anyway
(`forced`): it queues the activation rather than lose it.

Example: ring [a, b, c], fqn hashing to 7 -> home 7 % 3 = 1 (b), steps [1, 2], step = steps[(7 // 3)
% 2] = 1; the walk is b, c, a. If b has 0 MB free and c has 512 MB, a 256 MB action goes to c.

Caveats: the walk reads a snapshot of the books; the reservation that follows is atomic and fails
when another controller took the room in between, and the caller retries with a fresh snapshot.
"""

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from core.ids import InvokerId


@dataclass(frozen=True)
class InvokerState:
    invoker_id: InvokerId
    healthy: bool
    user_memory_mb: int
    booked_mb: int = 0  # memory booked by in-flight activations, from every controller
    action_in_flight: int = 0  # in-flight activations of the action being placed, on this invoker
    warm: int = 0  # warm containers of that action there, from the invoker's last heartbeat

    @property
    def free_memory_mb(self) -> int:
        return self.user_memory_mb - self.booked_mb

    @property
    def load(self) -> float:
        return self.booked_mb / max(self.user_memory_mb, 1)


@dataclass(frozen=True)
class Choice:
    invoker_id: InvokerId
    forced: bool  # nobody had room: booked over capacity on the least-loaded invoker


def shard_key(namespace: str, fqn: str) -> str:
    """What an action's home is hashed from: the invoking namespace and the action's full name."""
    return f"{namespace}|{fqn}"


def step_sizes(n: int) -> list[int]:
    """Steps in 1..n co-prime with n and pairwise co-prime with each other (OpenWhisk): 10 -> [1, 3, 7]."""
    steps: list[int] = []
    for s in range(1, n + 1):
        if math.gcd(s, n) == 1 and all(math.gcd(s, t) == 1 for t in steps):
            steps.append(s)
    return steps or [1]


def probe_order(fqn: str, n: int) -> list[int]:
    """Ring positions to try, home first; every position exactly once (the step is co-prime with n)."""
    if n == 0:
        return []
    digest = zlib.crc32(fqn.encode())  # not hash(): salted per process
    steps = step_sizes(n)
    home, step = digest % n, steps[(digest // n) % len(steps)]
    return [(home + i * step) % n for i in range(n)]


def extra_memory_mb(action_in_flight: int, concurrency: int, memory_mb: int) -> int:
    """Memory one more activation books: a container's worth, unless a booked one has a free slot."""
    return memory_mb if action_in_flight % max(concurrency, 1) == 0 else 0


def fits(invoker: InvokerState, memory_mb: int, concurrency: int) -> bool:
    return invoker.free_memory_mb >= extra_memory_mb(invoker.action_in_flight, concurrency, memory_mb)


def choose_invoker(fqn: str, memory_mb: int, concurrency: int, ring: Sequence[InvokerState]) -> Choice | None:
    """Where to run; None when no invoker is healthy. `fqn` is namespace + action."""
    ordered = sorted(ring, key=lambda inv: inv.invoker_id)
    for position in probe_order(fqn, len(ordered)):
        candidate = ordered[position]
        if candidate.healthy and fits(candidate, memory_mb, concurrency):
            return Choice(candidate.invoker_id, forced=False)
    healthy = [inv for inv in ordered if inv.healthy]
    if not healthy:
        return None
    return Choice(min(healthy, key=lambda inv: (inv.load, inv.invoker_id)).invoker_id, forced=True)
