"""The controller: reads Invocations, books a slot on an invoker, publishes a Dispatch; no policy here.

Three consumers run side by side: invocations (group `controllers`), completions (same group, one
stream for every controller: whoever reads one releases its slots), and the recovery loop for
invokers that went offline (controller.recovery).
"""

import asyncio
import contextlib
import logging
import time

from controller.records import internal_error
from controller.recovery import Recovery
from controller.registry import Registry
from controller.scheduler import Choice, InvokerState, choose_invoker, shard_key
from stratus.bus import Delivery, MessageBus
from stratus.config import ControllerSettings
from stratus.consumer import ConsumerSpec, run_consumer
from stratus.errors import BadMessage, StoreUnavailable
from stratus.ids import ControllerId, InvokerId
from stratus.ledger import Ledger, RedisLedger, Reservation
from stratus.messages import (
    COMPLETIONS,
    CONTROLLERS_GROUP,
    INVOCATIONS,
    Completion,
    Dispatch,
    Invocation,
    invoker_stream,
)
from stratus.stores.activations import ActivationStore

log = logging.getLogger(__name__)

REFRESH_S = 0.5
STREAM_MAXLEN = 100_000
RESERVE_TRIES = 3  # another controller may take the room between our snapshot and our booking


def now_ms() -> int:
    return int(time.time() * 1000)


def action_key(invocation: Invocation) -> str:
    """What shares a container: the invoking namespace and the action's revision."""
    action = invocation.action
    return f"{invocation.namespace}|{action.fqn}|{action.revision}"


class Controller:
    def __init__(
        self,
        settings: ControllerSettings,
        bus: MessageBus,
        activations: ActivationStore,
        ledger: Ledger | None = None,
    ) -> None:
        self.controller_id = ControllerId(settings.controller_id)
        self._settings = settings
        self._bus = bus
        self._activations = activations
        self._own_ledger = ledger is None
        self.ledger: Ledger = ledger or RedisLedger.from_url(settings.redis_url)
        self.registry = Registry(
            heartbeat_ttl_ms=int(settings.heartbeat_ttl_s * 1000),
            forget_after_ms=int(settings.forget_invoker_s * 1000),
        )
        self.recovery = Recovery(self, bus, activations, self.ledger, settings)

    async def run(self, stop: asyncio.Event) -> None:
        await self.refresh()
        invocations = ConsumerSpec(
            INVOCATIONS,
            CONTROLLERS_GROUP,
            self.controller_id,
            concurrency=self._settings.max_in_flight,
            claim_idle_ms=self._settings.claim_idle_ms,
        )
        completions = ConsumerSpec(
            COMPLETIONS, CONTROLLERS_GROUP, self.controller_id, concurrency=64, claim_idle_ms=10_000
        )
        background = [
            asyncio.create_task(self._refresh_loop(stop), name="controller-refresh"),
            asyncio.create_task(run_consumer(self._bus, completions, self.completed, stop), name="completions"),
            asyncio.create_task(self.recovery.run(stop), name="controller-recovery"),
        ]
        try:
            await run_consumer(self._bus, invocations, self.handle, stop)
        finally:
            await asyncio.gather(*background[1:], return_exceptions=True)
            background[0].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background[0]
            if self._own_ledger:
                await self.ledger.close()

    async def handle(self, delivery: Delivery) -> None:
        """Never raises: sibling tasks must survive. Acks after the Dispatch (or the failure record) is out."""
        try:
            invocation = Invocation.from_fields(delivery.fields)
            await self.dispatch(delivery, invocation)
        except BadMessage:
            await self._bus.dead_letter(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("invocation entry %s failed; left pending for reclaim", delivery.entry_id)

    async def dispatch(self, delivery: Delivery, invocation: Invocation) -> InvokerId | None:
        """Place and forward (publish + ack at once); also used to reroute a dead invoker's backlog."""
        invoker_id = await self.place(invocation)
        if invoker_id is None:
            await self.fail(invocation, "No invoker is available to run the action; try again later.")
            await self._bus.ack(delivery)
            return None
        dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=self.controller_id)
        try:
            await self._bus.forward(delivery, invoker_stream(invoker_id), dispatch.to_fields(), maxlen=STREAM_MAXLEN)
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await self.ledger.release(invocation.activation_id)
            raise
        log.info("activation %s -> invoker %s", invocation.activation_id, invoker_id)
        return invoker_id

    async def place(self, invocation: Invocation) -> InvokerId | None:
        """Book a slot; waits up to `no_invoker_grace_s` for a healthy invoker, None after."""
        deadline = time.monotonic() + self._settings.no_invoker_grace_s
        while True:
            choice = await self._book(invocation)
            if choice is not None or time.monotonic() >= deadline:
                return choice.invoker_id if choice else None
            await asyncio.sleep(REFRESH_S)
            await self.refresh()

    async def _book(self, invocation: Invocation) -> Choice | None:
        action = invocation.action
        key = action_key(invocation)
        for attempt in range(RESERVE_TRIES):
            ring = self.registry.ring(now_ms())
            booked = await self.ledger.booked([beat.invoker_id for beat, _ in ring], key)
            states = [
                InvokerState(beat.invoker_id, healthy, beat.user_memory_mb, b.memory_mb, b.action_in_flight)
                for (beat, healthy), b in zip(ring, booked, strict=True)
            ]
            key_of_home = shard_key(invocation.namespace, action.fqn)
            choice = choose_invoker(key_of_home, action.limits.memory, action.limits.concurrency, states)
            if choice is None:
                return None
            capacity = self.registry.beats[choice.invoker_id].user_memory_mb
            force = choice.forced or attempt == RESERVE_TRIES - 1
            if await self.ledger.reserve(self._reservation(invocation, choice.invoker_id), capacity, force=force):
                return choice
        raise AssertionError("a forced reservation always succeeds")

    def _reservation(self, invocation: Invocation, invoker_id: InvokerId) -> Reservation:
        action = invocation.action
        return Reservation(
            activation_id=invocation.activation_id,
            invoker_id=invoker_id,
            action_key=action_key(invocation),
            memory_mb=action.limits.memory,
            concurrency=max(action.limits.concurrency, 1),
            namespace=invocation.namespace,
            deadline_ms=now_ms() + action.limits.timeout,
        )

    async def fail(self, invocation: Invocation, message: str) -> None:
        """The activation cannot run: it still gets its one record, and a blocking caller its answer."""
        log.warning("activation %s failed: %s", invocation.activation_id, message)
        record = internal_error(invocation, message, now_ms())
        await self._activations.put(record)
        if invocation.reply_to:
            completion = Completion(
                activation_id=record.activation_id, invoker_id=InvokerId(""), memory_mb=0, activation=record
            )
            await self._bus.publish(invocation.reply_to, completion.to_fields(), maxlen=STREAM_MAXLEN)
        await self.ledger.release(invocation.activation_id)
        await self.ledger.finish(invocation.namespace, invocation.activation_id)

    async def completed(self, delivery: Delivery) -> None:
        """A completion from an invoker: release its slots and its namespace's in-flight entry. Idempotent."""
        try:
            completion = Completion.from_fields(delivery.fields)
            reservation = await self.ledger.release(completion.activation_id)
            if reservation is not None:
                await self.ledger.finish(reservation.namespace, completion.activation_id)
            await self._bus.ack(delivery)
        except BadMessage:
            await self._bus.dead_letter(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("completion entry %s failed; left pending for reclaim", delivery.entry_id)

    async def refresh(self) -> None:
        self.registry.update(await self._bus.heartbeats())

    async def _refresh_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("could not refresh invokers: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)
