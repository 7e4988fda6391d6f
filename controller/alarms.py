"""The alarm clock: fires the triggers of the alarms feed (core.alarms) on schedule.

Every controller runs one. Each second it reads the alarms and, for each with a tick due, takes the Redis
lease `stratus:alarm:{namespace}/{trigger}@{tick}` (SET NX, kept a day): only the controller that takes it
fires, so a tick fires at most once however many controllers run. Nothing lives in memory but a small
memo of the ticks seen: after a restart the latest tick (if due in the last minute and not fired yet) fires,
and the schedule goes on. A firing runs every active rule of the trigger (core.triggers) with the
alarm's `trigger_payload`; rule invocations of alarms are not counted against the namespace's throttles.
"""

import asyncio
import logging
import time
import uuid

from core import alarms as A
from core.bus import MessageBus
from core.ledger import Ledger
from core.lifecycle import every
from core.messages import INVOCATIONS, Invocation
from core.stores.entities import EntityStore
from core.triggers import fire

log = logging.getLogger(__name__)

ROUND_S = 1.0
TICK_LEASE_MS = 24 * 3600 * 1000
INVOCATIONS_MAXLEN = 1_000_000


def tick_key(alarm: A.Alarm, tick_ms: int) -> str:
    return f"stratus:alarm:{alarm.namespace}/{alarm.name}@{tick_ms}"


class AlarmClock:
    def __init__(self, bus: MessageBus, ledger: Ledger, entities: EntityStore) -> None:
        self._bus = bus
        self._ledger = ledger
        self._entities = entities
        self._seen: set[str] = set()  # tick keys handled (fired here or by another controller)

    async def run(self, stop: asyncio.Event) -> None:
        await every(ROUND_S, stop, lambda: self.round(int(time.time() * 1000)), "alarm round")

    async def round(self, now_ms: int) -> None:
        if len(self._seen) > 100_000:
            self._seen.clear()
        for alarm in await self._entities.all_alarms():
            tick = A.due_tick(alarm, now_ms)
            if tick is None:
                continue
            key = tick_key(alarm, tick)
            if key in self._seen:
                continue
            self._seen.add(key)
            if await self._bus.lease(key, uuid.uuid4().hex, ttl_ms=TICK_LEASE_MS):
                await self._fire(alarm, tick)

    async def _fire(self, alarm: A.Alarm, tick_ms: int) -> None:
        trigger = await self._entities.get_trigger(alarm.namespace, alarm.name)
        owner = await self._entities.get_namespace(alarm.namespace)
        if trigger is None or owner is None:
            log.info("alarm of %s/%s: the trigger is gone; alarm deleted", alarm.namespace, alarm.name)
            await self._entities.delete_alarm(alarm.namespace, alarm.name)
            return

        async def publish(invocation: Invocation) -> None:
            await self._bus.publish(INVOCATIONS, invocation.to_fields(), maxlen=INVOCATIONS_MAXLEN)

        activation_id = await fire(self._entities, self._ledger, owner, trigger, alarm.payload, publish)
        log.info("alarm %s/%s fired for tick %d: %s", alarm.namespace, alarm.name, tick_ms, activation_id)
        if alarm.fire_once:
            await self._entities.delete_alarm(alarm.namespace, alarm.name)
            if alarm.delete_after_fire:
                await self._entities.delete_trigger(alarm.namespace, alarm.name)
