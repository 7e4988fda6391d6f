"""Packages, triggers and rules in the EntityStore (MariaDB and SQLite), and action resolution through
packages and bindings (core.packages) on a real store."""

import pytest

from core.alarms import from_params
from core.errors import Conflict
from core.models import EntityRef, KeyValue, Package, Rule, Trigger
from core.packages import resolve_action
from core.stores.entities import SqlEntityStore
from tests.factories import make_action


def kv(**values: object) -> list[KeyValue]:
    return [KeyValue(key=k, value=v) for k, v in values.items()]


async def test_packages_round_trip_list_and_replace(entities: SqlEntityStore) -> None:
    package = Package(namespace="ns", name="utils", parameters=kv(a=1), updated=1)
    await entities.put_package(package, expected_updated=None)
    assert await entities.get_package("ns", "utils") == package
    with pytest.raises(Conflict):
        await entities.put_package(package, expected_updated=None)
    newer = package.model_copy(update={"updated": 2, "version": "0.0.2"})
    await entities.put_package(newer, expected_updated=1)
    with pytest.raises(Conflict):  # somebody wrote in between
        await entities.put_package(newer, expected_updated=1)
    assert await entities.list_packages("ns", limit=10, skip=0) == [newer]
    assert await entities.delete_package("ns", "utils") == newer
    assert await entities.get_package("ns", "utils") is None


async def test_actions_resolve_through_a_package_and_a_binding(entities: SqlEntityStore) -> None:
    await entities.put_package(Package(namespace="ns", name="p", parameters=kv(a="p", b="p")), expected_updated=None)
    binding = Package(namespace="ns", name="b", binding=EntityRef(namespace="ns", name="p"), parameters=kv(b="b"))
    await entities.put_package(binding, expected_updated=None)
    await entities.create_action(make_action(namespace="ns/p", name="act", parameters=kv(c="act")))
    assert [a.name for a in await entities.package_actions("ns", "p")] == ["act"]

    direct = await resolve_action(entities, "ns", "p/act")
    assert direct is not None and {p.key: p.value for p in direct.parameters} == {"a": "p", "b": "p", "c": "act"}
    bound = await resolve_action(entities, "ns", "/_/b/act")
    assert bound is not None and {p.key: p.value for p in bound.parameters} == {"a": "p", "b": "b", "c": "act"}
    assert bound.fqn == "ns/p/act" and bound.annotation("binding") == "ns/b"
    assert await resolve_action(entities, "other", "/ns/p/act") is None  # not published
    await entities.put_package(Package(namespace="ns", name="p", publish=True, updated=5), expected_updated=0)
    assert await resolve_action(entities, "other", "/ns/p/act") is not None
    assert await resolve_action(entities, "ns", "missing/act") is None


async def test_triggers_and_rules_round_trip(entities: SqlEntityStore) -> None:
    trigger = Trigger(namespace="ns", name="t", parameters=kv(x=1))
    rule = Rule(namespace="ns", name="r", trigger="ns/t", action="ns/p/a")
    await entities.put_trigger(trigger, expected_updated=None)
    await entities.put_rule(rule, expected_updated=None)
    assert await entities.get_trigger("ns", "t") == trigger
    assert await entities.list_rules("ns", limit=10, skip=0) == [rule]
    assert rule.to_api()["action"] == {"path": "ns/p", "name": "a"}
    assert await entities.delete_rule("ns", "r") == rule
    assert await entities.delete_trigger("ns", "t") == trigger
    assert await entities.list_triggers("ns", limit=10, skip=0) == []


async def test_alarms_round_trip_and_replace(entities: SqlEntityStore) -> None:
    first = from_params("alarm", "ns", "t", {"cron": "* * * * *", "trigger_payload": {"a": "中"}}, 1)
    await entities.put_alarm(first)
    second = from_params("interval", "ns", "t", {"minutes": 5}, 2)
    await entities.put_alarm(second)  # the trigger's alarm is replaced
    other = from_params("once", "other", "t", {"date": 10}, 3)
    await entities.put_alarm(other)
    assert await entities.get_alarm("ns", "t") == second
    assert await entities.all_alarms() == [second, other]
    assert await entities.delete_alarm("ns", "t") == second
    assert await entities.delete_alarm("ns", "t") is None
    assert await entities.all_alarms() == [other]
