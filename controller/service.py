"""The controller: places what gateways could not (core.placer), in batches; no policy here.

Gateways place what they accept themselves; what reaches `stratus:invocations` (group `controllers`) is
what they could not place (no healthy invoker yet, a booking lost to another placer), sequences, and a
dead invoker's backlog (controller.recovery). Per batch: core.placer.Placer books each on an invoker,
appends its Dispatch and acks its Invocation, atomically; a booking another placer beat us to is tried
again with a fresh snapshot, and when no invoker is healthy the batch waits for one, then fails.
Side by side run the recorder (records outbox -> activation store), the expiry of old records, the
recovery loop for invokers that went offline (controller.recovery), the registry refresh, the sequence
conductor and the alarms.
Capacity comes back when an invoker ends an activation (core.ledger `end`): no message to us.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from controller import metrics
from controller.alarms import AlarmClock
from controller.conductor import Conductor
from controller.recorder import Recorder
from controller.recovery import Recovery
from core import kinds
from core.bus import Delivery, MessageBus
from core.config import ControllerSettings
from core.consumer import ConsumerSpec, end_unreadable, run_batch_consumer
from core.errors import BadMessage, StoreUnavailable
from core.ids import ControllerId
from core.invokers import Registry
from core.ledger import Ending, Ledger
from core.lifecycle import every
from core.messages import (
    CONTROLLERS_GROUP,
    INVOCATIONS,
    Completion,
    Invocation,
    MetricsTarget,
    Record,
)
from core.placer import REFRESH_S, Placer, Work, now_ms
from core.records import internal_error
from core.stores.activations import ActivationStore
from core.stores.entities import EntityStore

log = logging.getLogger(__name__)

PLACE_TRIES = 3  # another controller may take the room between our snapshot and our booking
EXPIRE_S = 1.0  # records expire a second at a time: each delete is short, even on the embedded store
NO_INVOKER = "No invoker is available to run the action; try again later."


class Controller:
    def __init__(
        self,
        settings: ControllerSettings,
        bus: MessageBus,
        activations: ActivationStore,
        ledger: Ledger,
        entities: EntityStore | None = None,  # sequences resolve their components in it (None: they fail)
    ) -> None:
        self.controller_id = ControllerId(settings.controller_id)
        self._settings = settings
        self._bus = bus
        self._activations = activations
        self.ledger = ledger
        registry = Registry(
            heartbeat_ttl_ms=int(settings.heartbeat_ttl_s * 1000),
            forget_after_ms=int(settings.forget_invoker_s * 1000),
        )
        self.placer = Placer(self.controller_id, ledger, registry, settings.placement)
        self.recovery = Recovery(self, bus, ledger, settings)
        self.recorder = Recorder(bus, activations, f"recorder:{self.controller_id}")
        self.metrics_address: str | None = None  # host:port of /metrics, when something serves them
        self.conductor = Conductor(self.controller_id, bus, ledger, entities, activations)
        self.alarms = AlarmClock(bus, ledger, entities) if entities is not None else None

    @property
    def registry(self) -> Registry:
        """The invokers as the placer sees them (recovery reads who went offline here)."""
        return self.placer.registry

    async def run(self, stop: asyncio.Event) -> None:
        await self.refresh()
        await self._activations.keep_for(self._settings.activation_ttl_s)
        invocations = ConsumerSpec(
            INVOCATIONS,
            CONTROLLERS_GROUP,
            self.controller_id,
            concurrency=self._settings.max_in_flight,
            claim_idle_ms=self._settings.claim_idle_ms,
        )
        try:
            await self._serve(stop, invocations)
        finally:
            if self.metrics_address:
                with contextlib.suppress(StoreUnavailable):
                    await self._bus.remove_metrics_target(self.controller_id)

    async def _serve(self, stop: asyncio.Event, invocations: ConsumerSpec) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._refresh_loop(stop), name="controller-refresh")
            group.create_task(self._load_loop(stop), name="controller-load-metrics")
            group.create_task(self.recorder.run(stop), name="controller-recorder")
            # quiet: the store being down is the recorder's to report, not once a second here as well
            expire = every(EXPIRE_S, stop, self._activations.expire, "expiring activation records", quiet=True)
            group.create_task(expire, name="controller-expiry")
            group.create_task(self.recovery.run(stop), name="controller-recovery")
            group.create_task(self.conductor.run(stop), name="controller-conductor")
            if self.alarms is not None:
                group.create_task(self.alarms.run(stop), name="controller-alarms")
            await run_batch_consumer(self._bus, invocations, self.handle, stop)

    async def handle(self, deliveries: list[Delivery]) -> None:
        """What cannot be placed now stays pending, to be claimed again."""
        work: list[Work] = []
        for delivery in deliveries:
            try:
                invocation = Invocation.from_fields(delivery.fields)
            except BadMessage:
                await self._unreadable(delivery)
                continue
            if invocation.action.exec.kind == kinds.SEQUENCE:
                await self._conduct(delivery, invocation)
            else:
                work.append((delivery, invocation))
        await self.dispatch(work)

    async def dispatch(self, work: Sequence[Work]) -> None:
        """Place each and hand it to its invoker; also used to reroute a dead invoker's backlog. When no
        invoker is healthy, waits up to `no_invoker_grace_s` for one, then fails the activations."""
        deadline = time.monotonic() + self._settings.no_invoker_grace_s
        remaining = list(work)
        while remaining:
            remaining = await self._place(remaining)
            if remaining and time.monotonic() >= deadline:
                await self.fail_all([(d, i) for d, i in remaining], NO_INVOKER)
                return
            if remaining:  # waiting for an invoker: keep them ours, or a claim would place them twice
                await self._bus.touch([d for d, _ in remaining if d is not None])
                await asyncio.sleep(REFRESH_S)
                await self.refresh()

    async def _place(self, work: Sequence[Work]) -> list[Work]:
        """At most PLACE_TRIES tries, the last one forced; what is left had no healthy invoker."""
        remaining = list(work)
        for attempt in range(PLACE_TRIES):
            started = time.perf_counter()
            unplaced, lost = await self.placer.place(remaining, force=attempt == PLACE_TRIES - 1)
            metrics.PLACE.observe(time.perf_counter() - started)
            placed_ms = now_ms()
            left = {invocation.activation_id for _, invocation in unplaced + lost}
            for _, invocation in remaining:
                if invocation.activation_id not in left:
                    metrics.QUEUE_WAIT.observe(max(0, placed_ms - invocation.accepted_ms) / 1000)
            metrics.PLACED.inc(len(remaining) - len(left))
            remaining = unplaced + lost
            if not lost:
                break
        return remaining

    async def fail_all(self, work: Sequence[tuple[Delivery | None, Invocation]], message: str) -> None:
        """The activations cannot run: each still gets its one record, and a blocking caller its answer."""
        at = now_ms()
        metrics.FAILED.inc(len(work))
        endings = []
        for source, invocation in work:
            log.warning("activation %s failed: %s", invocation.activation_id, message)
            record = internal_error(invocation, message, at)
            reply = Completion(activation_id=record.activation_id, activation=record)
            answer = (invocation.reply_to, reply.to_fields()) if invocation.reply_to else None
            fields = Record(activation=record).to_fields()
            endings.append(Ending(record.activation_id, invocation.namespace, fields, answer, source))
        await self.ledger.end(endings)

    async def refresh(self) -> None:
        await self.placer.refresh(self._bus)

    async def _load_loop(self, stop: asyncio.Event) -> None:
        """The gauges: the queue's depth, the invokers by health and the load booked on each."""
        shown: set[str] = set()

        async def measure() -> None:
            nonlocal shown
            shown = await self._measure_load(shown)

        await every(metrics.LOAD_INTERVAL_S, stop, measure, "reading the load metrics", quiet=True)

    async def _measure_load(self, shown: set[str]) -> set[str]:
        if self.metrics_address:
            target = MetricsTarget(controller_id=self.controller_id, address=self.metrics_address, sent_ms=now_ms())
            await self._bus.put_metrics_target(target)
        metrics.QUEUE_DEPTH.set(await self._bus.length(INVOCATIONS))
        health = self.registry.health(now_ms())
        for state in ("healthy", "unhealthy", "offline"):
            metrics.INVOKERS.labels(state).set(sum(1 for s in health.values() if s == state))
        ids = sorted(health)
        books = await self.ledger.books(ids)
        for invoker_id, b in zip(ids, books, strict=True):
            metrics.BOOKED.labels(invoker_id).set(b.memory_mb)
            metrics.IN_FLIGHT.labels(invoker_id).set(sum((b.in_flight or {}).values()))
            metrics.CAPACITY.labels(invoker_id).set(self.registry.beats[invoker_id].user_memory_mb)
        for gone in shown - set(ids):
            for gauge in (metrics.BOOKED, metrics.IN_FLIGHT, metrics.CAPACITY):
                with contextlib.suppress(KeyError):
                    gauge.remove(gone)
        return set(ids)

    async def _refresh_loop(self, stop: asyncio.Event) -> None:
        await every(REFRESH_S, stop, self.refresh, "reading the invokers' heartbeats")

    async def _conduct(self, delivery: Delivery, invocation: Invocation) -> None:
        try:
            await self.conductor.take(delivery, invocation)
        except StoreUnavailable as exc:  # left pending: a claim tries again
            log.warning("could not start sequence %s: %s", invocation.activation_id, exc)

    async def _unreadable(self, delivery: Delivery) -> None:
        try:
            await end_unreadable(self._bus, self.ledger, delivery)
        except StoreUnavailable as exc:  # left pending: a claim tries again
            log.warning("could not end unreadable entry %s: %s", delivery.entry_id, exc)
