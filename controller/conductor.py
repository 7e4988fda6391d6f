"""Runs sequences: each component an ordinary activation, one after another, then the sequence's own record.

A sequence's Invocation arrives on `stratus:invocations` like any other; the controller hands it here
instead of to an invoker. Its entry stays pending (renewed every few seconds, so that no other controller
claims it) until the sequence's record is written, in the same atomic step that acknowledges the entry
(core.ledger END). Each component is published to `stratus:invocations` with this controller's reply
stream and `cause` = the sequence's id, and waited for; its result (an object) is the next one's input.
The chain stops at the first component that fails or returns an `error`; the sequence's response is the
last component's, its `logs` the components' activation ids, its duration their sum.

One conductor per sequence: the one holding its lease (`stratus:sequence:{id}:conductor`, renewed with the
entry; released when its controller stops). Nothing is lost: the progress (the ids of the components started
so far) is kept in Redis. When the entry comes back to a controller that is not running it (its conductor's
controller stopped, and the entry was claimed), that controller takes the lease and resumes the sequence: it
waits in the activation store for the records of the components already started (their replies went to the
stopped controller), never running one twice, and goes on with the rest. A started component whose record
does not come within its timeout and a minute (it was lost with its invoker, or the stop came between noting
it and publishing it) ends the sequence with a `whisk internal error` record listing the components that ran.
"""

import asyncio
import contextlib
import json
import logging
import time

from core import kinds, sequences
from core import limits as L
from core.bus import Delivery, MessageBus
from core.errors import StoreUnavailable
from core.ids import ActivationId, ControllerId
from core.ledger import BY_REFERENCE, Ending, Ledger
from core.lifecycle import every
from core.messages import (
    INVOCATIONS,
    REPLY_INLINE_MAX_BYTES,
    Invocation,
    conductor_stream,
    ending_fields,
    sequence_key,
)
from core.models import Action, Activation, ActivationResponse
from core.packages import resolve_action
from core.params import run_params
from core.replies import RecordRef, ReplyWaiter, read_large_record
from core.stores.activations import ActivationStore
from core.stores.entities import EntityStore

log = logging.getLogger(__name__)

PROGRESS_TTL_S = 7 * 24 * 3600
TOUCH_EVERY_S = 5.0
WAIT_SLACK_S = 60.0  # past a component's timeout (OpenWhisk waits timeout + 1 minute)
INVOCATIONS_MAXLEN = 1_000_000
STORED_POLL_S = 0.5
LEASE_MS = 4 * int(TOUCH_EVERY_S * 1000)  # one conductor per sequence: renewed every TOUCH_EVERY_S
INTERRUPTED = "The controller running the sequence stopped; the sequence did not complete."


def sequence_lease(activation_id: ActivationId) -> str:
    return f"{sequence_key(activation_id)}:conductor"


def now_ms() -> int:
    return int(time.time() * 1000)


def component_wait_s(action: Action) -> float:
    """How long a component may take: its timeout (a nested sequence: the longest) and a minute."""
    timeout_ms = L.TIMEOUT.maximum if action.exec.kind == kinds.SEQUENCE else action.limits.timeout
    return timeout_ms / 1000 + WAIT_SLACK_S


class Conductor:
    def __init__(
        self,
        controller_id: ControllerId,
        bus: MessageBus,
        ledger: Ledger,
        entities: EntityStore | None,
        activations: ActivationStore,
    ) -> None:
        self._bus = bus
        self._ledger = ledger
        self._entities = entities
        self._activations = activations
        self._holder = str(controller_id)
        self.replies = ReplyWaiter(bus, conductor_stream(controller_id))
        self._running: dict[ActivationId, Delivery] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listening = False  # the reply listener starts with the first sequence

    def running(self) -> int:
        return len(self._running)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the running sequences' entries and leases ours, until `stop`."""
        try:
            await every(TOUCH_EVERY_S, stop, self._renew, "renewing the entries of running sequences")
        finally:
            stopped = list(self._running)
            for task in list(self._tasks):
                task.cancel()  # their entries stay pending: another controller resumes them
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for aid in stopped:  # let another controller resume them at once
                with contextlib.suppress(StoreUnavailable):
                    await self._bus.delete_state(sequence_lease(aid))
            if self._listening:
                await self.replies.stop()

    async def _renew(self) -> None:
        if not self._running:
            return
        await self._bus.touch(list(self._running.values()))
        for aid in list(self._running):
            if not await self._bus.lease(sequence_lease(aid), self._holder, ttl_ms=LEASE_MS):
                log.warning("sequence %s: another controller took its lease", aid)

    async def take(self, delivery: Delivery, invocation: Invocation) -> None:
        """Start conducting the sequence (returns at once); resume it when another conductor had started it."""
        aid = invocation.activation_id
        if aid in self._running:
            return  # our own entry, handed to us again by a claim
        if not await self._bus.lease(sequence_lease(aid), self._holder, ttl_ms=LEASE_MS):
            log.info("sequence %s: conducted by a live controller; left to it", aid)
            return  # its conductor lives (only its renewal was late): never two conductors for one sequence
        progress = await self._bus.get_state(sequence_key(aid))
        ran: list[str] = json.loads(progress) if progress is not None else []
        if progress is None:
            await self._bus.put_state(sequence_key(aid), "[]", ttl_s=PROGRESS_TTL_S)
        else:
            log.warning("sequence %s: its conductor stopped after %d components; resuming", aid, len(ran))
        if not self._listening:
            self.replies.start()
            self._listening = True
        self._running[aid] = delivery
        task = asyncio.create_task(self._conduct(delivery, invocation, ran), name=f"sequence:{aid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _conduct(self, delivery: Delivery, invocation: Invocation, ran: list[str]) -> None:
        aid = invocation.activation_id
        start = invocation.accepted_ms if ran else now_ms()
        ids: list[str] = []
        try:
            response, durations = await self._chain(invocation, ids, ran)
            await self._end(delivery, invocation, response, ids, sum(durations), start)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sequence %s failed", aid)
            with contextlib.suppress(Exception):
                await self._end(delivery, invocation, sequences.failed(f"The sequence failed: {exc}"), ids, 0, start)
        finally:
            self._running.pop(aid, None)

    async def _chain(
        self, invocation: Invocation, ids: list[str], ran: list[str]
    ) -> tuple[ActivationResponse, list[int]]:
        """Run the components in order (those in `ran` already ran: their records are awaited in the store);
        (the sequence's response, the components' durations)."""
        params = invocation.params
        durations: list[int] = []
        response = ActivationResponse(status="success", result=params)
        components = invocation.action.exec.components or []
        if len(components) > L.SEQUENCE_MAX_ACTIONS:
            return sequences.failed(f"Too many actions in the sequence: {len(components)}."), durations
        for index, reference in enumerate(components):
            action = await self._resolve(invocation.namespace, reference)
            if action is None:
                message = f"The sequence component '{reference}' does not exist."
                return ActivationResponse(status="action developer error", result={"error": message}), durations
            if index < len(ran):
                ids.append(ran[index])
                record = await self._stored(invocation.namespace, ran[index], action)
            else:
                record = await self._run_component(invocation, action, params, ids)
            if record is None:
                message = f"The sequence component '{reference}' did not end in time; the sequence stopped."
                return sequences.failed(INTERRUPTED if index < len(ran) else message), durations
            durations.append(record.duration)
            response = record.response
            if sequences.stops(record):
                break
            params = sequences.next_input(record.response.result)
        return response, durations

    async def _stored(self, namespace: str, activation_id: str, action: Action) -> Activation | None:
        """The record of a component a stopped conductor started: it may still be running (or never have
        been published, when the stop came in between: then nothing comes, and the wait runs out)."""
        deadline = time.monotonic() + component_wait_s(action)
        while time.monotonic() < deadline:
            if (record := await self._activations.get(namespace, ActivationId(activation_id))) is not None:
                return record
            await asyncio.sleep(STORED_POLL_S)
        return None

    async def _resolve(self, namespace: str, reference: str) -> Action | None:
        if self._entities is None:
            return None
        return await resolve_action(self._entities, namespace, reference)

    async def _run_component(
        self, sequence: Invocation, action: Action, params: dict[str, object], ids: list[str]
    ) -> Activation | None:
        component = Invocation.accept(
            sequence.namespace,
            sequence.subject,
            action,
            run_params(action, params),
            reply_to=self.replies.stream,
            cause=sequence.activation_id,
        )
        cid = component.activation_id
        ids.append(cid)
        await self._bus.put_state(sequence_key(sequence.activation_id), json.dumps(ids), ttl_s=PROGRESS_TTL_S)
        future = self.replies.expect(cid)
        try:
            await self._bus.publish(INVOCATIONS, component.to_fields(), maxlen=INVOCATIONS_MAXLEN)
        except BaseException:
            self.replies.forget(cid)
            raise
        log.info("sequence %s: component %s -> activation %s", sequence.activation_id, action.fqn, cid)
        answer = await self.replies.wait(future, cid, component_wait_s(action))
        if isinstance(answer, RecordRef):
            return await read_large_record(self._bus, self._activations, sequence.namespace, cid, answer)
        return answer

    async def _end(
        self,
        delivery: Delivery,
        invocation: Invocation,
        response: ActivationResponse,
        ids: list[str],
        duration: int,
        start: int,
    ) -> None:
        """The sequence's one record, its caller's answer and its entry's acknowledgement, in one step."""
        record = invocation.record(
            response,
            start=start,
            end=now_ms(),
            duration=duration,
            logs=list(ids),
            annotations=sequences.sequence_annotations(
                invocation.action, max(0, start - invocation.accepted_ms), nested=invocation.cause is not None
            ),
        )
        record_fields, completion = ending_fields(record)
        reply = None
        if invocation.reply_to:
            small = len(completion["body"]) <= REPLY_INLINE_MAX_BYTES
            reply = (invocation.reply_to, completion if small else BY_REFERENCE)
        await self._ledger.end([Ending(record.activation_id, record.namespace, record_fields, reply, delivery)])
        await self._bus.delete_state(sequence_key(invocation.activation_id))
        await self._bus.delete_state(sequence_lease(invocation.activation_id))
        log.info("sequence %s ended: %s after %d components", record.activation_id, response.status, len(ids))
