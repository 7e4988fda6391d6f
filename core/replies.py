"""Waits on one reply stream for the completions that blocking callers wait for: a gateway's (blocking
invokes), a controller's (the components of the sequences it runs).

One reader per gateway (or controller) reads every reply in batches and trims what it read, so the stream holds only
replies on their way; its expiry is renewed while the gateway runs, so a gateway that vanished leaves
no stream behind for long.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from core.bus import MAX_BLOCK_MS, MessageBus
from core.errors import BadMessage, StoreUnavailable
from core.ids import ActivationId
from core.messages import RECORDS, Completion, Record
from core.models import Activation
from core.stores.activations import ActivationStore

log = logging.getLogger(__name__)

REPLY_STREAM_TTL_S = 600  # renewed every minute while the gateway runs; blocking waits are <= 60 s
RENEW_EVERY_S = 60.0
TRIM_EVERY_S = 1.0
LARGE_RECORD_TRIES = 50  # x 0.1 s: the recorder writes within its linger and one batch


@dataclass(frozen=True)
class RecordRef:
    """The record was too large to travel in the reply: it is this entry of the records outbox."""

    entry_id: str


Answer = Activation | RecordRef


async def read_large_record(
    bus: MessageBus, activations: ActivationStore, namespace: str, activation_id: ActivationId, ref: RecordRef
) -> Activation | None:
    """A record too large for the reply stream: from the outbox, or from the store once the recorder moved it."""
    fields = await bus.read_entry(RECORDS, ref.entry_id)
    if fields is not None:
        return Record.from_fields(fields).activation
    for _ in range(LARGE_RECORD_TRIES):
        if (record := await activations.get(namespace, activation_id)) is not None:
            return record
        await asyncio.sleep(0.1)
    return None  # the caller gets the id (202) and reads the record when it is there


class ReplyWaiter:
    def __init__(self, bus: MessageBus, stream: str) -> None:
        self._bus = bus
        self.stream = stream
        self._waiting: dict[ActivationId, asyncio.Future[Answer]] = {}
        self._task: asyncio.Task[None] | None = None

    def expect(self, activation_id: ActivationId) -> "asyncio.Future[Answer]":
        """Register before publishing, so a fast completion is never missed."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[activation_id] = future
        return future

    def forget(self, activation_id: ActivationId) -> None:
        self._waiting.pop(activation_id, None)

    async def wait(
        self, future: "asyncio.Future[Answer]", activation_id: ActivationId, timeout_s: float
    ) -> Answer | None:
        """The record (or where it is), or None when the wait ran out (the activation goes on)."""
        try:
            async with asyncio.timeout(timeout_s):  # wakes the caller straight from the future; wait_for and
                return await future  # a shield took two more loop turns per blocking call
        except TimeoutError:
            return None
        finally:
            self.forget(activation_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="reply-listener")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        last_id = "0-0"  # not "$": a reply landing between two blocking reads would be missed
        renew_at = trim_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                # The callers the last batch woke resume first: sending the next read before them put its
                # packing and write (about 45 µs here) in front of every blocking caller's answer.
                await asyncio.sleep(0)
                entries = await self._bus.read(self.stream, last_id, count=512, block_ms=MAX_BLOCK_MS)
                for entry_id, fields in entries:
                    last_id = entry_id
                    self._deliver(fields)
                if entries and loop.time() >= trim_at:
                    await self._bus.trim_before(self.stream, last_id)
                    trim_at = loop.time() + TRIM_EVERY_S
                if loop.time() >= renew_at:  # EXPIRE does nothing before the first reply created the stream
                    await self._bus.expire(self.stream, REPLY_STREAM_TTL_S)
                    renew_at = loop.time() + RENEW_EVERY_S
            except StoreUnavailable:
                log.warning("reply stream %s unreadable; retrying", self.stream)
                await asyncio.sleep(0.5)

    def _deliver(self, fields: "dict[bytes, bytes] | object") -> None:
        try:
            completion = Completion.from_fields(fields)  # type: ignore[arg-type]
        except BadMessage:
            log.warning("ignoring an undecodable reply on %s", self.stream)
            return
        future = self._waiting.get(completion.activation_id)
        if future is None or future.done():
            return
        if completion.activation is not None:
            future.set_result(completion.activation)
        elif completion.record_entry is not None:
            future.set_result(RecordRef(completion.record_entry))
