"""Nothing lost when an invoker dies: its stream is taken over by the controllers.

Every round, for each invoker that is offline (no heartbeat for the TTL, or draining):
- its *backlog* (Dispatches it never read) is read in its own consumer group under a controller's
  consumer name and rerouted to a healthy invoker: publish + ack at once, so each goes exactly once;
- its *pending* entries (read, maybe running when it died) are claimed (XAUTOCLAIM: one controller
  wins each) and, once past their deadline (dispatch time + action timeout + `dead_invoker_grace_s`),
  end with a `whisk internal error` record and an answer to a blocking caller. They are not run
  again: the action may have run already (OpenWhisk's at-most-once for running activations).
The same happens to the stream of an invoker whose heartbeat entry vanished (it shut down: a
Dispatch may have arrived after it stopped reading). An invoker offline for `forget_invoker_s` with
nothing left on its stream leaves the registry.
A reservation on a *healthy* invoker that no completion released long after its deadline (its entry
failed there and waits for that invoker's restart) is released anyway, as OpenWhisk's forced
completion does, so that a lost completion never pins slots.

Caveat: if the invoker comes back before the deadline, the entries a controller already claimed still
end as `whisk internal error` (the invoker re-runs only the entries still pending at its own name).
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from core.bus import Delivery, MessageBus
from core.config import ControllerSettings
from core.errors import BadMessage
from core.ids import InvokerId
from core.invokers import Registry
from core.ledger import Ledger
from core.lifecycle import every
from core.messages import INVOKERS_GROUP, Dispatch, Invocation, invoker_stream


class Dispatcher(Protocol):
    """What recovery needs of the controller (controller.service.Controller is one)."""

    @property
    def controller_id(self) -> str: ...

    @property
    def registry(self) -> Registry: ...

    async def dispatch(self, work: Sequence[tuple[Delivery, Invocation]]) -> None: ...

    async def fail_all(self, work: Sequence[tuple[Delivery, Invocation]], message: str) -> None: ...


log = logging.getLogger(__name__)

ROUND_S = 1.0
BATCH = 100
FORCED_RELEASE_MS = 120_000  # past a reservation's deadline (booked + timeout), on a healthy invoker
SWEEP_EVERY = 10  # rounds
DIED_MESSAGE = "The invoker running the action stopped; the activation did not complete."


def entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


def past_deadline(delivery: Delivery, dispatch: Dispatch, grace_ms: int, now_ms: int) -> bool:
    return now_ms >= entry_ms(delivery.entry_id) + dispatch.invocation.action.limits.timeout + grace_ms


class Recovery:
    def __init__(
        self,
        controller: Dispatcher,
        bus: MessageBus,
        ledger: Ledger,
        settings: ControllerSettings,
    ) -> None:
        self._controller = controller
        self._bus = bus
        self._ledger = ledger
        self._grace_ms = int(settings.dead_invoker_grace_s * 1000)
        self._consumer = f"recovery:{controller.controller_id}"
        self._held: set[InvokerId] = set()  # streams where this controller holds claimed entries
        self._rounds = 0

    async def run(self, stop: asyncio.Event) -> None:
        await every(ROUND_S, stop, self.round, "recovery round")

    async def round(self) -> None:
        now = int(time.time() * 1000)
        registry = self._controller.registry
        offline = registry.offline(now) + registry.gone()
        for invoker_id in offline:
            await self._take_over(invoker_id)
            if invoker_id not in registry.beats and invoker_id not in self._held:
                registry.seen.discard(invoker_id)  # its stream is clear
        for invoker_id in sorted(self._held - set(offline)):
            await self._expire(invoker_id, await self._bus.pending(*self._where(invoker_id), count=BATCH))
        self._rounds += 1
        if self._rounds % SWEEP_EVERY == 0:
            await self.release_overdue(now)
        for invoker_id in registry.forgotten(now):
            if invoker_id not in self._held:
                await self._bus.remove_heartbeat(invoker_id)
                await self._bus.delete_if_done(invoker_stream(invoker_id))
                log.info("invoker %s forgotten after being offline", invoker_id)

    async def release_overdue(self, now_ms: int) -> None:
        health = self._controller.registry.health(now_ms)
        for reservation in await self._ledger.reservations():
            overdue = now_ms > reservation.deadline_ms + FORCED_RELEASE_MS
            if overdue and health.get(reservation.invoker_id) == "healthy":
                log.warning(
                    "activation %s: no completion from invoker %s long after its deadline; slots released",
                    reservation.activation_id,
                    reservation.invoker_id,
                )
                if await self._ledger.release(reservation.activation_id) is not None:
                    await self._ledger.finish(reservation.namespace, reservation.activation_id)

    def _where(self, invoker_id: InvokerId) -> tuple[str, str, str]:
        return invoker_stream(invoker_id), INVOKERS_GROUP, self._consumer

    async def _take_over(self, invoker_id: InvokerId) -> None:
        stream, group, consumer = self._where(invoker_id)
        await self._bus.ensure_group(stream, group)
        while backlog := await self._bus.consume(stream, group, consumer, count=BATCH, block_ms=1):
            await self._reroute(invoker_id, backlog)
        claimed = await self._bus.claim_stale(stream, group, consumer, min_idle_ms=1000, count=BATCH)
        await self._expire(invoker_id, claimed + await self._bus.pending(stream, group, consumer, count=BATCH))

    async def _reroute(self, invoker_id: InvokerId, backlog: list[Delivery]) -> None:
        log.warning("invoker %s is offline: rerouting %d activations it never read", invoker_id, len(backlog))
        work = []
        for delivery in backlog:
            try:
                work.append((delivery, Dispatch.from_fields(delivery.fields).invocation))
            except BadMessage:
                await self._bus.dead_letter(delivery)
        await self._controller.dispatch(work)

    async def _expire(self, invoker_id: InvokerId, held: list[Delivery]) -> None:
        """Claimed entries: failed once past their deadline, held until then."""
        now = int(time.time() * 1000)
        still_held = False
        expired = []
        for delivery in {d.entry_id: d for d in held}.values():
            try:
                dispatch = Dispatch.from_fields(delivery.fields)
            except BadMessage:
                await self._bus.dead_letter(delivery)
                continue
            if not past_deadline(delivery, dispatch, self._grace_ms, now):
                still_held = True
                continue
            expired.append((delivery, dispatch.invocation))
        await self._controller.fail_all(expired, DIED_MESSAGE)
        if still_held:
            self._held.add(invoker_id)
        else:
            self._held.discard(invoker_id)
