"""The controller: reads Invocations, picks an invoker, publishes a Dispatch; no policy here."""

import asyncio
import contextlib
import logging
import time

from controller.registry import Registry
from controller.scheduler import choose_invoker
from stratus.bus import Delivery, MessageBus
from stratus.config import ControllerSettings
from stratus.consumer import ConsumerSpec, run_consumer
from stratus.errors import BadMessage, StoreUnavailable
from stratus.ids import ControllerId, InvokerId
from stratus.messages import (
    CONTROLLERS_GROUP,
    INVOCATIONS,
    Completion,
    Dispatch,
    Invocation,
    completion_stream,
    invoker_stream,
)
from stratus.models import Activation, ActivationResponse, KeyValue
from stratus.stores.activations import ActivationStore

log = logging.getLogger(__name__)

REFRESH_S = 0.5
STREAM_MAXLEN = 100_000


def now_ms() -> int:
    return int(time.time() * 1000)


class Controller:
    def __init__(self, settings: ControllerSettings, bus: MessageBus, activations: ActivationStore) -> None:
        self.controller_id = ControllerId(settings.controller_id)
        self._settings = settings
        self._bus = bus
        self._activations = activations
        self.registry = Registry(heartbeat_ttl_ms=int(settings.heartbeat_ttl_s * 1000))

    async def run(self, stop: asyncio.Event) -> None:
        await self.refresh()
        spec = ConsumerSpec(
            INVOCATIONS,
            CONTROLLERS_GROUP,
            self.controller_id,
            concurrency=self._settings.max_in_flight,
            claim_idle_ms=30_000,
        )
        background = [
            asyncio.create_task(self._refresh_loop(stop), name="controller-refresh"),
            asyncio.create_task(self._completions(stop), name="controller-completions"),
        ]
        try:
            await run_consumer(self._bus, spec, self.handle, stop)
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def handle(self, delivery: Delivery) -> None:
        """Never raises: sibling tasks must survive. Acks after the Dispatch (or the failure record) is out."""
        try:
            invocation = Invocation.from_fields(delivery.fields)
            invoker_id = await self._place(invocation)
            if invoker_id is None:
                await self._fail(invocation, "No invoker is available to run the action; try again later.")
                await self._bus.ack(delivery)
                return
            dispatch = Dispatch(invocation=invocation, invoker_id=invoker_id, controller_id=self.controller_id)
            self.registry.dispatched(invocation.activation_id, invoker_id, invocation.action.limits.memory)
            await self._bus.forward(delivery, invoker_stream(invoker_id), dispatch.to_fields(), maxlen=STREAM_MAXLEN)
            log.info("activation %s -> invoker %s", invocation.activation_id, invoker_id)
        except BadMessage:
            await self._bus.dead_letter(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("invocation entry %s failed; left pending for reclaim", delivery.entry_id)

    async def _place(self, invocation: Invocation) -> InvokerId | None:
        deadline = time.monotonic() + self._settings.no_invoker_grace_s
        while True:
            states = self.registry.states(now_ms())
            chosen = choose_invoker(invocation.action.fqn, invocation.action.limits.memory, states)
            if chosen is not None or time.monotonic() >= deadline:
                return chosen
            await asyncio.sleep(REFRESH_S)

    async def _fail(self, invocation: Invocation, message: str) -> None:
        """The activation cannot run: it still gets its one record, and a blocking caller its answer."""
        log.warning("activation %s failed: %s", invocation.activation_id, message)
        now = now_ms()
        action = invocation.action
        record = Activation(
            activation_id=invocation.activation_id,
            namespace=invocation.namespace,
            name=action.name,
            version=action.version,
            subject=invocation.subject,
            start=now,
            end=now,
            duration=0,
            response=ActivationResponse(status="whisk internal error", result={"error": message}),
            annotations=[
                KeyValue(key="path", value=action.fqn),
                KeyValue(key="kind", value=action.exec.kind),
                KeyValue(key="waitTime", value=now - invocation.accepted_ms),
            ],
        )
        await self._activations.put(record)
        if invocation.reply_to:
            completion = Completion(
                activation_id=record.activation_id, invoker_id=InvokerId(""), memory_mb=0, activation=record
            )
            await self._bus.publish(invocation.reply_to, completion.to_fields(), maxlen=STREAM_MAXLEN)

    async def refresh(self) -> None:
        self.registry.update(await self._bus.heartbeats())

    async def _refresh_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("could not refresh invokers: %s", exc)
            await asyncio.sleep(REFRESH_S)

    async def _completions(self, stop: asyncio.Event) -> None:
        stream = completion_stream(self.controller_id)
        last_id = "$"
        while not stop.is_set():
            try:
                entries = await self._bus.read(stream, last_id, count=512, block_ms=1000)
            except StoreUnavailable as exc:
                log.warning("could not read completions: %s", exc)
                await asyncio.sleep(0.5)
                continue
            for entry_id, fields in entries:
                last_id = entry_id
                try:
                    self.registry.completed(Completion.from_fields(fields).activation_id)
                except BadMessage:
                    log.warning("ignoring an undecodable completion %s", entry_id)
