"""The loop every stream consumer shares: read a batch, hand it on, drain on stop.

Two shapes: `run_consumer` hands each entry to a task of its own (work that takes as long as a function
runs); `run_batch_consumer` hands each read's entries to one call, awaited before the next read (work
done for a whole batch in a few round trips: placement, record writes).
Entries this consumer received before a restart (still pending) are handled first; with
`claim_idle_ms`, entries left pending that long by any consumer of the group are taken over.
A handler acknowledges its entries itself, after their work is recorded; what it raises (a bug) is
logged here and its entries stay pending (`_guarded`), so no handler needs a catch-all of its own.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.bus import Delivery, MessageBus
from core.errors import StoreUnavailable
from core.ledger import Ending, Ledger
from core.messages import Completion, Record
from core.records import UNREADABLE, salvage

log = logging.getLogger(__name__)

Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[list[Delivery]], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    group: str
    consumer: str
    concurrency: int = 64  # entries handled at once (run_consumer), or the largest batch (run_batch_consumer)
    block_ms: int = 1000
    claim_idle_ms: int | None = None


async def run_batch_consumer(bus: MessageBus, spec: ConsumerSpec, handle: BatchHandler, stop: asyncio.Event) -> None:
    await bus.ensure_group(spec.stream, spec.group)

    async def hand_on(deliveries: list[Delivery]) -> None:
        if deliveries:
            await _guarded(handle(deliveries), spec, "a batch of %d entries", len(deliveries))

    await _loop(bus, spec, hand_on, stop)


async def run_consumer(bus: MessageBus, spec: ConsumerSpec, handle: Handler, stop: asyncio.Event) -> None:
    await bus.ensure_group(spec.stream, spec.group)
    slots = asyncio.Semaphore(spec.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    active: set[str] = set()  # entry ids being handled: a claim must not hand them out twice

    async def one(delivery: Delivery) -> None:
        try:
            await _guarded(handle(delivery), spec, "entry %s", delivery.entry_id)
        finally:
            active.discard(delivery.entry_id)
            slots.release()

    async def dispatch(deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if delivery.entry_id in active:
                continue
            active.add(delivery.entry_id)
            await slots.acquire()
            task = asyncio.create_task(one(delivery), name=f"{spec.stream}:{delivery.entry_id}")
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    await _loop(bus, spec, dispatch, stop)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def _guarded(work: Awaitable[None], spec: ConsumerSpec, what: str, detail: object) -> None:
    """The one place a handler's unexpected failure ends: logged, its entries left pending to be handled
    again (a redelivery, or a claim), and the consumer goes on. Outages and unreadable entries are the
    handlers' own business (they end them, or leave them pending, themselves). `what % detail` names the
    work, formatted only when it failed (this wraps every entry)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception(what + " of %s failed; left pending to be handled again", detail, spec.stream)


async def _loop(
    bus: MessageBus, spec: ConsumerSpec, sink: Callable[[list[Delivery]], Awaitable[None]], stop: asyncio.Event
) -> None:
    await sink(await bus.pending(spec.stream, spec.group, spec.consumer, count=10_000))
    loop = asyncio.get_running_loop()
    next_claim = loop.time()
    while not stop.is_set():
        try:
            if spec.claim_idle_ms is not None and loop.time() >= next_claim:
                next_claim = loop.time() + spec.claim_idle_ms / 2000
                await sink(await _claim(bus, spec))
            await sink(await _read(bus, spec))
        except StoreUnavailable as exc:
            log.warning("consumer of %s: %s; retrying", spec.stream, exc)
            await asyncio.sleep(0.5)


async def _read(bus: MessageBus, spec: ConsumerSpec) -> list[Delivery]:
    """Awaited to the end even when stopping (its entries are delivered to us once it returns, and would
    otherwise sit pending until a restart or a claim), so `stop` is seen within `block_ms`.
    It first yields once: the tasks the last batch started take their first step (an invoker sends the
    request to the container) before this task spends ~0.1 ms issuing the next read."""
    await asyncio.sleep(0)
    return await bus.consume(spec.stream, spec.group, spec.consumer, count=spec.concurrency, block_ms=spec.block_ms)


async def _claim(bus: MessageBus, spec: ConsumerSpec) -> list[Delivery]:
    assert spec.claim_idle_ms is not None
    claimed = await bus.claim_stale(spec.stream, spec.group, spec.consumer, min_idle_ms=spec.claim_idle_ms, count=100)
    if claimed:
        log.warning("took over %d entries left pending on %s", len(claimed), spec.stream)
    return claimed


async def end_unreadable(bus: MessageBus, ledger: Ledger, delivery: Delivery) -> None:
    """An Invocation or Dispatch that does not decode: its activation still ends with a record (and its
    caller with an answer, its slots and throttle entry freed) when its id can be read; the entry itself
    goes to the dead-letter stream. Idempotent: a second pass writes the same record id."""
    unreadable = salvage(delivery.fields, UNREADABLE, int(time.time() * 1000))
    if unreadable is not None:
        record = unreadable.record
        log.warning("activation %s: entry %s does not decode; ended as failed", record.activation_id, delivery.entry_id)
        reply = Completion(activation_id=record.activation_id, activation=record).to_fields()
        await ledger.end(
            [
                Ending(
                    record.activation_id,
                    record.namespace,
                    Record(activation=record).to_fields(),
                    (unreadable.reply_to, reply) if unreadable.reply_to else None,
                    None,
                )
            ]
        )
    await bus.dead_letter(delivery)
