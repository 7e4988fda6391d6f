"""The invoker: reads its Dispatches, runs each in the container pool, then ends it in one atomic step.

Ending an activation (core.ledger `end`) gives its slots back, appends its record to the records
outbox, answers a blocking caller and acks the Dispatch, all at once; the ends of activations that
finish while one is on its way share the next round trip (core.coalesce).
"""

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Sequence

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from core.bus import Delivery, MessageBus
from core.coalesce import Coalescer
from core.config import InvokerSettings
from core.consumer import ConsumerSpec, end_unreadable, run_consumer
from core.errors import BadMessage, StoreUnavailable
from core.ids import InvokerId
from core.ledger import BY_REFERENCE, Ending, Ledger
from core.lifecycle import every
from core.messages import (
    ACTION_CHANGES,
    INVOKERS_GROUP,
    REPLY_INLINE_MAX_BYTES,
    ActionChanged,
    Dispatch,
    Heartbeat,
    ending_fields,
    invoker_stream,
)
from core.models import Activation
from core.records import internal_error
from invoker.driver import ContainerDriver
from invoker.egress import EgressGuard
from invoker.health import Health, warm_pools
from invoker.pool import ContainerPool
from invoker.runner import Runner

log = logging.getLogger(__name__)

RESTARTED = "The invoker restarted while the activation ran; it did not complete."
END_RETRY_S = 60.0  # how long an ended activation waits for Redis to come back before it is left pending
PROBE_TIMEOUT_S = 10.0
REAP_INTERVAL_S = 1.0  # pausing and idle removal are checked this often
REFILL_INTERVAL_S = 5.0
MANAGED_LABEL = "org.stratus.invoker"


class Invoker:
    def __init__(
        self,
        settings: InvokerSettings,
        bus: MessageBus,
        ledger: Ledger,
        driver: ContainerDriver,
        pool: ContainerPool,
        runner: Runner,
        egress: EgressGuard | None = None,  # None: no egress rules (tests that bring their own network)
    ) -> None:
        self.invoker_id = InvokerId(settings.invoker_id)
        self._egress = egress
        self._settings = settings
        self._bus = bus
        self._ledger = ledger
        self._endings: Coalescer[Ending, None] = Coalescer(self._end_batch)
        self._driver = driver
        driver.prepare_network = self._prepare_network  # also when a container finds the network gone
        self._pool = pool
        self._runner = runner
        self._draining = False
        self.health = Health()  # reported in every heartbeat: a failing invoker gets no work
        self.metrics_address: str | None = None  # host:port of /metrics, when something serves them

    async def run(self, stop: asyncio.Event) -> None:
        await self._remove_leftovers()
        await self._prepare_network(self._settings.network)
        spec = ConsumerSpec(invoker_stream(self.invoker_id), INVOKERS_GROUP, self.invoker_id, concurrency=256)
        await self._bus.ensure_group(spec.stream, spec.group)
        await self._end_unfinished(spec)
        # Outside the group, never cancelled: a container it is starting must be known, to be removed.
        refiller = asyncio.create_task(self._refiller(stop), name="invoker-stem-cells")
        try:
            async with asyncio.TaskGroup() as group:
                beside = [
                    group.create_task(self._heartbeats(stop), name="invoker-heartbeat"),
                    group.create_task(self._reaper(stop), name="invoker-reaper"),
                    group.create_task(self._retirements(stop), name="invoker-action-changes"),
                ]
                await run_consumer(self._bus, spec, self.handle, stop)
                for task in beside:
                    task.cancel()
        finally:
            self._draining = True
            stop.set()  # the refiller ends by itself, also when the consumer failed rather than was stopped
            with contextlib.suppress(Exception):
                await refiller
            await self._shutdown()

    async def handle(self, delivery: Delivery) -> None:
        """Ack last: a crash before it means redelivery (a failure is logged by the consumer loop)."""
        try:
            dispatch = Dispatch.from_fields(delivery.fields)
            invocation = dispatch.invocation
            activation = await self._runner.run(invocation)  # user and engine failures come back as data
            self.health.record(activation.response.status == "whisk internal error", _error(activation), time.time())
            await self._end(ending(activation, invocation.reply_to, delivery))
            log.info("activation %s ended: %s", activation.activation_id, activation.response.status)
        except BadMessage:
            await end_unreadable(self._bus, self._ledger, delivery)

    async def _end_unfinished(self, spec: ConsumerSpec) -> None:
        """Dispatches an earlier run of this invoker received and never ended: it read only what it started
        at once, so they may have run, even had effects. They end with a record saying so, and are never
        run again (OpenWhisk's at-most-once for running activations; a dead invoker's get the same from
        a controller, controller.recovery)."""
        unfinished = await self._bus.pending(spec.stream, spec.group, spec.consumer, count=10_000)
        now = int(time.time() * 1000)
        for delivery in unfinished:
            try:
                invocation = Dispatch.from_fields(delivery.fields).invocation
            except BadMessage:
                await end_unreadable(self._bus, self._ledger, delivery)
                continue
            log.warning(
                "activation %s was running when this invoker stopped: ended as failed", invocation.activation_id
            )
            await self._end(ending(internal_error(invocation, RESTARTED, now), invocation.reply_to, delivery))

    async def _end(self, end: Ending) -> None:
        """Slots back, record out, caller answered, Dispatch acked: retried while Redis is away (the work
        is done and must not be run again); past END_RETRY_S the entry is left pending for redelivery."""
        try:
            await self._endings.submit(end)
        except StoreUnavailable:  # the rare path: only now pay for a retrying loop
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(StoreUnavailable),
                wait=wait_exponential(multiplier=0.05, max=2.0),
                stop=stop_after_delay(END_RETRY_S),
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    await self._endings.submit(end)

    async def _end_batch(self, endings: Sequence[Ending]) -> list[None]:
        await self._ledger.end(endings)
        return [None] * len(endings)

    def heartbeat(self) -> Heartbeat:
        return Heartbeat(
            invoker_id=self.invoker_id,
            sent_ms=int(time.time() * 1000),
            user_memory_mb=self._settings.user_memory_mb,
            busy_memory_mb=self._pool.busy_memory_mb,
            containers=self._pool.container_count,
            state="draining" if self._draining else "up",
            failing=self.health.failing(time.time()),
            pool=dict(self._pool.states()),
            warm=warm_pools(self._pool.containers),
            run_ms=self._pool.run_times(),
            cold_ms=None if self._pool.cold_ms is None else round(self._pool.cold_ms),
            metrics=self.metrics_address,
        )

    async def _probe_engine(self) -> None:
        try:
            await asyncio.wait_for(self._driver.list_labelled(f"{MANAGED_LABEL}={self.invoker_id}"), PROBE_TIMEOUT_S)
            self.health.engine(None)
        except TimeoutError:
            self.health.engine(f"the container engine did not answer within {PROBE_TIMEOUT_S:.0f} s")
        except Exception as exc:
            self.health.engine(str(exc) or type(exc).__name__)

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        """Every interval, whatever the engine does: a slow engine probe (it runs beside, not before) once
        delayed heartbeats past the offline threshold, and controllers failed activations still running."""
        probing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                if (probing is None or probing.done()) and self.health.probe_due(time.time()):
                    probing = asyncio.create_task(self._probe_engine(), name="invoker-engine-probe")
                try:
                    await self._bus.put_heartbeat(self.heartbeat())
                except StoreUnavailable as exc:
                    log.warning("heartbeat not sent: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.heartbeat_interval_s)
        finally:
            if probing is not None:
                probing.cancel()

    async def _reaper(self, stop: asyncio.Event) -> None:
        """Pause containers idle past the grace period; remove those idle past the idle timeout."""
        grace = self._settings.pause_grace_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REAP_INTERVAL_S)
            now = time.monotonic()
            await self._runner.remove(await self._pool.reap_idle(now, self._settings.idle_ttl_s))
            if grace > 0:
                await self._runner.pause_idle(now, grace)

    async def _retirements(self, stop: asyncio.Event) -> None:
        """Containers of deleted or rewritten actions are removed as soon as they are idle (ActionChanged)."""

        async def listen() -> None:
            async for raw in self._bus.listen(ACTION_CHANGES):
                try:
                    change = ActionChanged.model_validate_json(raw)
                except ValueError:
                    log.warning("ignoring an undecodable action change")
                    continue
                await self.retire(change)

        # a failure is never the end of it: the idle timeout still removes what is missed meanwhile
        await every(REAP_INTERVAL_S, stop, listen, "listening for action changes")

    async def retire(self, change: ActionChanged) -> None:
        retired = await self._pool.retire(change.fqn, change.revision)
        if retired:
            log.info("removing %d containers of %s (%s)", len(retired), change.fqn, change.revision or "deleted")
        await self._runner.remove(retired)

    async def _prepare_network(self, name: str) -> None:
        """The function network, and the egress rules on its bridge before any function runs there."""
        await self._driver.ensure_network(name)
        if self._egress is not None:
            await self._egress.install(await self._driver.network_info(name))

    async def _refiller(self, stop: asyncio.Event) -> None:
        """Keep the stem cells the settings ask for: at start, whenever one is taken, and now and then
        (memory freed by removals may let a missing one fit)."""
        wanted = self._pool.refill_wanted
        while not stop.is_set():
            await self._runner.refill_stem_cells()
            waits = {asyncio.ensure_future(wanted.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waits, timeout=REFILL_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()

    async def _remove_leftovers(self) -> None:
        leftovers = await self._driver.list_labelled(f"{MANAGED_LABEL}={self.invoker_id}")
        for container_id in leftovers:
            await self._remove(container_id)
        if leftovers:
            log.info("removed %d containers left by an earlier run of invoker %s", len(leftovers), self.invoker_id)

    async def _shutdown(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self._bus.remove_heartbeat(self.invoker_id)
        await self._runner.remove(self._pool.drain())
        # The last invoker of the engine leaves nothing behind (`docker compose down`): the network, then
        # its egress rules, never the other way round (a container started meanwhile would run unguarded).
        name = self._settings.network
        try:
            network = await self._driver.network_info(name)
            if await self._driver.remove_network_if_unused(name) and self._egress is not None:
                await self._egress.remove(dataclasses.replace(network, containers=0))  # none: it is gone
        except Exception as exc:
            log.warning("function network %s or its egress rules not removed: %s", name, exc)

    async def _remove(self, container_id: str) -> None:
        try:
            await self._driver.remove(container_id)
        except Exception:
            log.exception("could not remove container %s", container_id)


def ending(activation: Activation, reply_to: str | None, source: Delivery | None) -> Ending:
    record, answer = ending_fields(activation)
    reply = None
    if reply_to:
        reply = (reply_to, answer if len(answer["body"]) <= REPLY_INLINE_MAX_BYTES else BY_REFERENCE)
    return Ending(activation.activation_id, activation.namespace, record, reply, source)


def _error(activation: Activation) -> str:
    result = activation.response.result
    return str(result.get("error", "")) if isinstance(result, dict) else ""
