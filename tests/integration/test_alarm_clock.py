"""Alarm clocks of several controllers on one Redis and one MariaDB: each tick fires once, whoever runs."""

import asyncio
import json

from controller.alarms import AlarmClock
from core.alarms import from_params
from core.bus import RedisStreamBus
from core.ledger import RedisLedger
from core.messages import INVOCATIONS, RECORDS, Invocation, Record
from core.models import Namespace, Rule, Trigger
from core.stores.entities import SqlEntityStore
from tests.factories import make_action
from tests.integration.test_controller import bus

__all__ = ["bus"]  # the fixture
T0 = 1_767_225_600_000


async def test_three_clocks_fire_each_tick_once(bus: RedisStreamBus, mysql_entities: SqlEntityStore) -> None:
    await mysql_entities.create_namespace(Namespace(name="ns", uuid="u-ns", key_hash="h", subject="ns"))
    await mysql_entities.create_action(make_action(name="act"))
    await mysql_entities.put_trigger(Trigger(namespace="ns", name="t"), expected_updated=None)
    rule = Rule(namespace="ns", name="r", trigger="ns/t", action="ns/act")
    await mysql_entities.put_rule(rule, expected_updated=None)
    alarm = from_params("alarm", "ns", "t", {"cron": "*/5 * * * * *", "trigger_payload": {"k": 1}}, T0)
    await mysql_entities.put_alarm(alarm)
    clocks = [AlarmClock(bus, RedisLedger(bus._redis), mysql_entities) for _ in range(3)]

    for now in (T0 + 6_000, T0 + 7_000, T0 + 11_000):  # ticks +5 s (seen twice) and +10 s
        await asyncio.gather(*(clock.round(now) for clock in clocks))
    restarted = AlarmClock(bus, RedisLedger(bus._redis), mysql_entities)  # no memo: Redis remembers
    await restarted.round(T0 + 12_000)

    invocations = [Invocation.from_fields(f) for _, f in await bus.read(INVOCATIONS, "0", count=100, block_ms=10)]
    assert len(invocations) == 2 and all(i.params == {"k": 1} and i.action.name == "act" for i in invocations)
    records = [Record.from_fields(f).activation for _, f in await bus.read(RECORDS, "0", count=100, block_ms=10)]
    assert [r.name for r in records] == ["t", "t"]
    assert {json.loads(r.logs[0])["activationId"] for r in records} == {i.activation_id for i in invocations}


async def test_a_one_shot_alarm_goes_after_firing_and_a_gone_trigger_takes_its_alarm(
    bus: RedisStreamBus, mysql_entities: SqlEntityStore
) -> None:
    await mysql_entities.create_namespace(Namespace(name="ns", uuid="u-ns", key_hash="h", subject="ns"))
    await mysql_entities.put_trigger(Trigger(namespace="ns", name="once"), expected_updated=None)
    once = from_params("once", "ns", "once", {"date": T0 + 1_000, "deleteAfterFire": True}, T0)
    orphan = from_params("alarm", "ns", "gone", {"cron": "* * * * * *"}, T0)
    await mysql_entities.put_alarm(once)
    await mysql_entities.put_alarm(orphan)
    await AlarmClock(bus, RedisLedger(bus._redis), mysql_entities).round(T0 + 2_000)
    assert await mysql_entities.all_alarms() == []
    assert await mysql_entities.get_trigger("ns", "once") is None
