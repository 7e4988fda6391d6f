"""Placing activations: for each, an invoker (core.placement) and a booking that hands it its Dispatch.

Two callers place, with the same code and the same books:
- a **gateway**, the moment it accepts an invocation (`GatewayPlacer`): invocations accepted while a
  batch is on its way share the next one (one snapshot of the books, one pipeline of `place` scripts),
  and each is on its invoker's stream when the caller's request returns. No hop through a controller.
- the **controller**, for what a gateway could not place (no healthy invoker, a booking lost to another
  placer, a sequence) and for the backlog of an invoker that died: it reads those from
  `stratus:invocations`, retries, waits for an invoker, or fails them.

Per batch: one snapshot of the books of every invoker in the ring (none when only one invoker is
healthy: then the choice is known), a choice per invocation that counts the batch's own earlier
choices, then one pipeline of `place` scripts (core.ledger), each atomic: book the slots, append
the Dispatch, ack the source entry (if any). A booking another placer beat us to comes back False and
is tried again by the caller with a fresh snapshot (or handed to a controller).

Example: a gateway accepts three invocations of `hello` within a millisecond; the first goes out alone,
the other two share the next batch: both see the first one's booking in the snapshot, so with
concurrency 1 and one warm container they go to another container or invoker, not on top of it.
"""

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence

from core.bus import Delivery, MessageBus
from core.coalesce import Coalescer
from core.config import PlacementPolicy
from core.ids import InvokerId
from core.invokers import Registry
from core.ledger import Booking, Ledger, Reservation
from core.lifecycle import every
from core.messages import Dispatch, Invocation, invoker_stream
from core.placement import Request, cold_start_ms, place, run_time_ms
from core.sharding import InvokerState, shard_key

log = logging.getLogger(__name__)

REFRESH_S = 0.5  # how often a placer reads the invokers' heartbeats

Work = tuple[Delivery | None, Invocation]  # an invocation, and the stream entry that carried it (if any)


def now_ms() -> int:
    return int(time.time() * 1000)


def action_key(invocation: Invocation) -> str:
    """What shares a container: the invoking namespace and the action's revision."""
    action = invocation.action
    return f"{invocation.namespace}|{action.fqn}|{action.revision}"


class Placer:
    def __init__(self, placed_by: str, ledger: Ledger, registry: Registry, policy: PlacementPolicy) -> None:
        self.placed_by = placed_by  # in every Dispatch: the controller's or the gateway's id
        self.ledger = ledger
        self.registry = registry
        self.policy = policy
        self.rng = random.Random()  # the openwhisk policy's random overflow

    async def refresh(self, bus: MessageBus) -> None:
        self.registry.update(await bus.heartbeats())

    async def choose(self, work: Sequence[Work], *, force: bool) -> tuple[list[tuple[Booking, Work]], list[Work]]:
        """A booking per invocation on one snapshot of the books, counting the batch's earlier choices;
        the rest had no healthy invoker."""
        ring = self.registry.ring(now_ms())
        up = [beat.invoker_id for beat, healthy in ring if healthy]
        if len(up) <= 1:  # no choice to make: every policy takes the one healthy invoker, forced when it is
            # full (tests/unit/test_placement.py), so the books need not be read
            if not up:
                return [], list(work)
            return [(self.booking(*item, up[0], force=True), item) for item in work], []
        books = await self.ledger.books([beat.invoker_id for beat, _ in ring])
        booked_mb = {beat.invoker_id: b.memory_mb for (beat, _), b in zip(ring, books, strict=True)}
        counts: Counter[tuple[InvokerId, str]] = Counter()
        for (beat, _), b in zip(ring, books, strict=True):
            for key, n in (b.in_flight or {}).items():
                counts[(beat.invoker_id, key)] = n
        cold_ms = cold_start_ms(ring)
        chosen: list[tuple[Booking, Work]] = []
        unplaced: list[Work] = []
        for source, invocation in work:
            key, action = action_key(invocation), invocation.action
            states = [
                InvokerState(
                    i.invoker_id,
                    healthy,
                    i.user_memory_mb,
                    booked_mb[i.invoker_id],
                    counts[(i.invoker_id, key)],
                    i.warm.get(action.fqn, 0),
                )
                for i, healthy in ring
            ]
            request = Request(
                shard_key(invocation.namespace, action.fqn),
                action.limits.memory,
                action.limits.concurrency,
                run_ms=run_time_ms(ring, action.fqn),
                cold_ms=cold_ms,
            )
            choice = place(self.policy, request, states, self.rng)
            if choice is None:
                unplaced.append((source, invocation))
                continue
            invoker_id = choice.invoker_id
            if counts[(invoker_id, key)] % max(action.limits.concurrency, 1) == 0:
                booked_mb[invoker_id] += action.limits.memory
            counts[(invoker_id, key)] += 1
            booking = self.booking(source, invocation, invoker_id, force=force or choice.forced)
            chosen.append((booking, (source, invocation)))
        return chosen, unplaced

    def booking(
        self, source: Delivery | None, invocation: Invocation, invoker_id: InvokerId, *, force: bool
    ) -> Booking:
        action = invocation.action
        reservation = Reservation(
            activation_id=invocation.activation_id,
            invoker_id=invoker_id,
            action_key=action_key(invocation),
            memory_mb=action.limits.memory,
            concurrency=max(action.limits.concurrency, 1),
            namespace=invocation.namespace,
            deadline_ms=now_ms() + action.limits.timeout,
        )
        dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=self.placed_by)
        capacity = self.registry.beats[invoker_id].user_memory_mb
        return Booking(reservation, capacity, force, invoker_stream(invoker_id), dispatch.to_fields(), source)

    async def place(self, work: Sequence[Work], *, force: bool) -> tuple[list[Work], list[Work]]:
        """One try. What comes back was not placed: (no healthy invoker for it, its booking lost to another
        placer: try again)."""
        chosen, unplaced = await self.choose(work, force=force)
        held = await self.ledger.place([booking for booking, _ in chosen])
        lost = [item for (_, item), ok in zip(chosen, held, strict=True) if not ok]
        if log.isEnabledFor(logging.INFO):
            for (booking, _), ok in zip(chosen, held, strict=True):
                if ok:
                    log.info("activation %s -> %s", booking.reservation.activation_id, booking.stream)
        return unplaced, lost


class GatewayPlacer:
    """A gateway's placer: `place_now` an accepted invocation; False leaves it to a controller.

    Its view of the invokers is refreshed every REFRESH_S by `run`; with no fresh heartbeat (Redis away,
    no invoker yet) nothing is healthy and every invocation goes to a controller, which waits for one."""

    def __init__(self, placer: Placer) -> None:
        self.placer = placer
        self._batches: Coalescer[Invocation, bool] = Coalescer(self._place_batch)

    async def run(self, bus: MessageBus, stop: asyncio.Event) -> None:
        await every(REFRESH_S, stop, lambda: self.placer.refresh(bus), "reading the invokers' heartbeats", quiet=True)

    async def place_now(self, invocation: Invocation) -> bool:
        """True: booked and on its invoker's stream. Raises StoreUnavailable when Redis cannot be reached."""
        return await self._batches.submit(invocation)

    async def _place_batch(self, invocations: Sequence[Invocation]) -> list[bool]:
        unplaced, lost = await self.placer.place([(None, invocation) for invocation in invocations], force=False)
        not_placed = {invocation.activation_id for _, invocation in unplaced + lost}
        return [invocation.activation_id not in not_placed for invocation in invocations]
