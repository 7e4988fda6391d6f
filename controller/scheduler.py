"""Pure placement: which invoker runs an activation.

OpenWhisk's sharding idea. Invokers are ordered by id, so every controller sees the same ring.
An action's *home* is `crc32(fqn) % n`, where a warm container most likely waits; from there we walk
the ring with a step co-prime with n (also derived from the hash), so that actions sharing a home
spread differently when it is full. The first invoker with enough free memory wins. When none has
room, the least-loaded healthy invoker takes it anyway: it queues the activation rather than lose it.

Example: invokers [a, b, c], fqn hashing to 7 -> home 7 % 3 = 1 (b), step from {1, 2} -> say 2;
the walk is b, a, c. If b has 0 MB free and a has 512 MB, a 256 MB action goes to a.

Caveats: free memory is this controller's view (its own in-flight work plus what each invoker last
reported); several controllers may briefly overbook an invoker, which then queues.
"""

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from stratus.ids import InvokerId


@dataclass(frozen=True)
class InvokerState:
    invoker_id: InvokerId
    healthy: bool
    user_memory_mb: int
    free_memory_mb: int


def coprime_steps(n: int) -> list[int]:
    return [s for s in range(1, n + 1) if math.gcd(s, n) == 1] if n > 1 else [1]


def choose_invoker(fqn: str, memory_mb: int, invokers: Sequence[InvokerState]) -> InvokerId | None:
    """The invoker to run on, or None when no invoker is healthy."""
    healthy = sorted((inv for inv in invokers if inv.healthy), key=lambda inv: inv.invoker_id)
    if not healthy:
        return None
    n = len(healthy)
    digest = zlib.crc32(fqn.encode())  # not hash(): salted per process
    home = digest % n
    steps = coprime_steps(n)
    step = steps[(digest // n) % len(steps)]
    for i in range(n):
        candidate = healthy[(home + i * step) % n]
        if candidate.free_memory_mb >= memory_mb:
            return candidate.invoker_id
    return max(healthy, key=lambda inv: (inv.free_memory_mb / max(inv.user_memory_mb, 1), inv.invoker_id)).invoker_id
