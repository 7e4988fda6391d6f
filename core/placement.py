"""Placement policies: pure functions from (what to run, the invokers' state) to a Choice.

Three policies, chosen by `ControllerSettings.placement` (the default is the best one measured in the
simulated cluster, `tests/bench/bench_sim.py`; numbers in the README's scale-out section):

- **sharding**: `core.sharding.choose_invoker`: the home, then a co-prime walk; when nobody has
  room, the least-loaded invoker is forced.
- **openwhisk**: OpenWhisk's ShardingContainerPoolBalancer: the same walk, but when nobody has room a
  random healthy invoker is forced.
- **warm**: knows where warm containers are (each invoker's heartbeat lists them) and what a cold
  start costs. In order:
  1. an invoker with a warm container of the action that has a free slot (`warm` x concurrency above
     the action's in-flight count there) and room in its books: the least loaded of them;
  2. **queue briefly** at a full invoker holding warm containers of the action, all busy and nobody
     queued for them yet, when the expected wait there (the action's run time over its busy warm slots)
     is below a cold start (a longer queue means demand outgrew the containers: the next steps add one);
  3. a **cold start** on the least-loaded of the first `k` invokers of the walk that have room: `k` is
     how many invokers the action's in-flight activations fill to `SPREAD_SHARE` of a node, at least
     2 (two choices), so a hot action spreads over several invokers deliberately, a quiet one stays
     near its home;
  4. the rest of the walk, first with room;
  5. nobody has room: forced on the warm holder with the shortest expected wait, else the least loaded.

Every controller computes the same answer from the same books and heartbeats (the walk depends only on
the action and the ring); the booking that follows is atomic in Redis (core.ledger), so several
controllers never overbook. An invoker that died is not healthy and is skipped; one that rejoins
reports no warm containers until it has some.

Example (warm): ring [a, b], the action's home is a, a holds 2 warm containers both busy and is full,
b has room. The action runs 100 ms, a cold start costs 900 ms: the expected wait at a is 100 / 2 = 50 ms
< 900 ms, so the activation queues at a (forced) instead of cold-starting at b.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from core.config import PlacementPolicy as Policy
from core.messages import Heartbeat
from core.sharding import Choice, InvokerState, choose_invoker, fits, probe_order

POLICIES: tuple[Policy, ...] = get_args(Policy)
SPREAD_SHARE = 0.25  # a hot action spreads once it would take more than this share of an invoker's memory
MIN_SPREAD = 2  # cold starts go to the less loaded of the first two of the walk at least (two choices)
DEFAULT_COLD_MS = 1000.0  # what a cold start costs when no invoker measured one yet


@dataclass(frozen=True)
class Request:
    shard: str  # what the home is hashed from (core.sharding.shard_key)
    memory_mb: int
    concurrency: int = 1
    run_ms: float | None = None  # the action's usual run time, when an invoker measured it
    cold_ms: float = DEFAULT_COLD_MS  # what a cold start costs


def place(
    policy: Policy, request: Request, ring: Sequence[InvokerState], rng: random.Random | None = None
) -> Choice | None:
    """Where to run; None when no invoker is healthy."""
    if policy == "sharding":
        return choose_invoker(request.shard, request.memory_mb, request.concurrency, ring)
    if policy == "openwhisk":
        return openwhisk(request, ring, rng or random.Random())
    return warm_aware(request, ring)


def walk(shard: str, ring: Sequence[InvokerState]) -> list[InvokerState]:
    """The healthy invokers in the action's probe order (home first)."""
    ordered = sorted(ring, key=lambda inv: inv.invoker_id)
    return [ordered[p] for p in probe_order(shard, len(ordered)) if ordered[p].healthy]


def openwhisk(request: Request, ring: Sequence[InvokerState], rng: random.Random) -> Choice | None:
    path = walk(request.shard, ring)
    for inv in path:
        if fits(inv, request.memory_mb, request.concurrency):
            return Choice(inv.invoker_id, forced=False)
    if not path:
        return None
    return Choice(rng.choice(sorted(path, key=lambda inv: inv.invoker_id)).invoker_id, forced=True)


def idle_warm_slots(inv: InvokerState, concurrency: int) -> int:
    """Free slots of the action's warm containers there (negative: activations queue for them)."""
    return inv.warm * max(concurrency, 1) - inv.action_in_flight


def expected_wait_ms(inv: InvokerState, request: Request) -> float:
    """How long an activation queued for the action's warm containers there waits, roughly."""
    assert request.run_ms is not None
    slots = inv.warm * max(request.concurrency, 1)
    ahead = max(0, -idle_warm_slots(inv, request.concurrency))
    return request.run_ms * (ahead + 1) / max(slots, 1)


def spread_width(request: Request, path: Sequence[InvokerState]) -> int:
    """How many invokers of the walk the action's in-flight activations (this one too) deserve."""
    containers = (sum(inv.action_in_flight for inv in path) + 1) / max(request.concurrency, 1)
    per_node = SPREAD_SHARE * sum(inv.user_memory_mb for inv in path) / len(path)
    return max(1, min(len(path), max(MIN_SPREAD, math.ceil(containers * request.memory_mb / max(per_node, 1)))))


def warm_aware(request: Request, ring: Sequence[InvokerState]) -> Choice | None:
    path = walk(request.shard, ring)
    if not path:
        return None
    room = [fits(inv, request.memory_mb, request.concurrency) for inv in path]
    warm = [inv for inv, ok in zip(path, room, strict=True) if ok and idle_warm_slots(inv, request.concurrency) > 0]
    if warm:
        return Choice(min(warm, key=lambda inv: inv.load).invoker_id, forced=False)
    holders = [inv for inv, ok in zip(path, room, strict=True) if inv.warm > 0 and not ok]
    brief = [inv for inv in holders if idle_warm_slots(inv, request.concurrency) == 0]  # nobody queued there yet
    if brief and request.run_ms is not None:
        best = min(brief, key=lambda inv: expected_wait_ms(inv, request))
        if expected_wait_ms(best, request) < request.cold_ms:
            return Choice(best.invoker_id, forced=True)
    k = spread_width(request, path)
    near = [inv for inv, ok in zip(path[:k], room, strict=False) if ok]
    if near:
        return Choice(min(near, key=lambda inv: inv.load).invoker_id, forced=False)
    for inv, ok in zip(path, room, strict=True):
        if ok:
            return Choice(inv.invoker_id, forced=False)
    if holders and request.run_ms is not None:
        return Choice(min(holders, key=lambda inv: expected_wait_ms(inv, request)).invoker_id, forced=True)
    return Choice(min(path, key=lambda inv: (inv.load, inv.invoker_id)).invoker_id, forced=True)


def run_time_ms(ring: Sequence[tuple[Heartbeat, bool]], fqn: str) -> float | None:
    """The action's usual run time, averaged over the healthy invokers that measured it."""
    times = [beat.run_ms[fqn] for beat, healthy in ring if healthy and fqn in beat.run_ms]
    return sum(times) / len(times) if times else None


def cold_start_ms(ring: Sequence[tuple[Heartbeat, bool]]) -> float:
    """What a cold start costs: the median of the healthy invokers' measurements."""
    times = sorted(beat.cold_ms for beat, healthy in ring if healthy and beat.cold_ms is not None)
    return float(times[len(times) // 2]) if times else DEFAULT_COLD_MS
