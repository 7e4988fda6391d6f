"""The recorder: writes the records outbox (`stratus:records`) to the activation store in batches.

An activation's record enters the outbox in the same atomic step that ends the activation (core.ledger,
`end`), so it is durable in Redis from then on. Recorders (one per controller, consumer group
`recorders`) read up to BATCH records at once, write them with one `put_many`, and only then acknowledge
and delete those entries. While the store is down the batch is retried with backoff and the outbox
holds the records; a recorder that dies leaves its batch pending for another one to claim. `put_many` is
idempotent, so a batch written twice (a claim after a slow write, a failure part-way) still leaves one
record per activation.

Batching is what the store needs: one write of 500 records costs about as much as a handful of single
writes (`tests/bench/bench_throughput.py`). Batches form by themselves under load (whatever arrives during
one write goes in the next). Under load, when a batch held BUSY records or more, the recorder waits
LINGER_S before the next read, so the next batch is larger: at about 1,400 activations/s batches went from
16 records to 100, and the write path's CPU per record fell (the driver's cost is per write). When
records trickle in, it writes each at once, so a caller that reads the record right after its blocking
call's answer finds it.
"""

import asyncio
import contextlib
import logging
import time

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from controller import metrics
from core.bus import Delivery, MessageBus
from core.consumer import ConsumerSpec, run_batch_consumer
from core.errors import BadMessage, StoreUnavailable
from core.messages import RECORDERS_GROUP, RECORDS, Record
from core.models import Activation
from core.stores.activations import ActivationStore

log = logging.getLogger(__name__)

BATCH = 500
BUSY = 8  # a batch this large means load: linger before the next read
LINGER_S = 0.02
CLAIM_IDLE_MS = 30_000  # a batch pending this long at a recorder that died is taken over
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0


class Recorder:
    def __init__(self, bus: MessageBus, activations: ActivationStore, consumer: str) -> None:
        self._bus = bus
        self._activations = activations
        self._spec = ConsumerSpec(RECORDS, RECORDERS_GROUP, consumer, concurrency=BATCH, claim_idle_ms=CLAIM_IDLE_MS)
        self._stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        await run_batch_consumer(self._bus, self._spec, self.write, stop)

    async def write(self, deliveries: list[Delivery]) -> None:
        """Acks only what is in the store; on stop, what is not stays pending (and so does a batch whose
        write failed unexpectedly: the consumer loop logs it, a claim writes it again)."""
        records: list[Activation] = []
        written: list[Delivery] = []
        for delivery in deliveries:
            try:
                records.append(Record.from_fields(delivery.fields).activation)
                written.append(delivery)
            except BadMessage:
                await self._dead_letter(delivery)
        if await self._put(records):
            await self._ack(written)
        if len(deliveries) >= BUSY and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), LINGER_S)

    async def _put(self, records: list[Activation]) -> bool:
        """Retried until written, or until the service stops (then the records stay in the outbox)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(StoreUnavailable),
            wait=wait_exponential(multiplier=RETRY_FIRST_S, max=RETRY_MAX_S),
            stop=lambda _: self._stop.is_set(),
            before_sleep=_log_retry,
            reraise=True,
        )
        started = time.perf_counter()
        try:
            async for attempt in retrying:
                with attempt:
                    await self._activations.put_many(records)
        except StoreUnavailable:
            log.warning("stopping with %d records not yet written; they stay in the outbox", len(records))
            return False
        metrics.RECORD_WRITE.observe(time.perf_counter() - started)
        metrics.RECORD_BATCH.observe(len(records))
        metrics.RECORDS.inc(len(records))
        return True

    async def _ack(self, deliveries: list[Delivery]) -> None:
        try:
            await self._bus.ack_many(deliveries)
        except StoreUnavailable as exc:  # written: a second write after a claim keeps the one record
            log.warning("could not acknowledge %d written records: %s", len(deliveries), exc)

    async def _dead_letter(self, delivery: Delivery) -> None:
        try:
            await self._bus.dead_letter(delivery)
        except StoreUnavailable as exc:
            log.warning("could not dead-letter record entry %s: %s", delivery.entry_id, exc)


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome else None
    log.warning("could not write records (%s); retry %d", failure, state.attempt_number)
