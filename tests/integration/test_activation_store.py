"""ActivationStore against the MongoDB wire protocol (SecantusDB) through PyMongo's async client."""

import asyncio
from datetime import UTC, datetime, timedelta

from core.stores.activations import MongoActivationStore
from tests.factories import make_activation


async def test_put_twice_keeps_one_record(activations: MongoActivationStore) -> None:
    record = make_activation()
    await activations.put(record)
    await activations.put(record)
    assert await activations.list_recent("ns", limit=10) == [record]
    assert await activations.count("ns") == 1


async def test_get_is_scoped_to_the_namespace(activations: MongoActivationStore) -> None:
    record = make_activation()
    await activations.put(record)
    assert await activations.get("ns", record.activation_id) == record
    assert await activations.get("intruder", record.activation_id) is None


async def test_list_newest_first_with_paging_and_filters(activations: MongoActivationStore) -> None:
    records = [make_activation(start=1000 + i, name="a" if i % 2 else "b") for i in range(6)]
    for record in records:
        await activations.put(record)
    await activations.put(make_activation(namespace="other", start=5000))
    newest = await activations.list_recent("ns", limit=3)
    assert [r.start for r in newest] == [1005, 1004, 1003]
    assert [r.start for r in await activations.list_recent("ns", limit=2, skip=2)] == [1003, 1002]
    assert [r.start for r in await activations.list_recent("ns", name="a", limit=10)] == [1005, 1003, 1001]
    assert [r.start for r in await activations.list_recent("ns", name="pkg/a", limit=10)] == [1005, 1003, 1001]
    assert [r.start for r in await activations.list_recent("ns", since=1002, upto=1004, limit=10)] == [1004, 1003, 1002]
    assert await activations.count("ns", name="b") == 3
    assert await activations.count("ns", since=1004) == 2


async def test_records_carry_when_they_were_written_and_expire_after_the_retention(
    activations: MongoActivationStore,
) -> None:
    collection = activations._collection
    await collection.create_index("recordedAt", expireAfterSeconds=60, name="retention")  # an earlier version's
    await activations.keep_for(3600)
    await activations.keep_for(7 * 24 * 3600)  # changed: applies to every record
    indexes = {i["name"]: i async for i in await collection.list_indexes()}
    assert dict(indexes["recorded"]["key"]) == {"recordedAt": 1}
    assert not [i for i in indexes.values() if "expireAfterSeconds" in i]  # no TTL sweeper scans the store
    old = make_activation()
    await activations.put(old)
    await asyncio.sleep(0.01)
    new = make_activation()
    await activations.put(new)
    stored = {d["_id"]: d["recordedAt"].replace(tzinfo=UTC) async for d in collection.find({})}
    assert stored[old.activation_id] < stored[new.activation_id]
    assert await activations.get(old.namespace, old.activation_id) == old  # the field stays internal
    week = timedelta(days=7)
    assert await activations.expire(now=stored[old.activation_id] + week) == 0
    assert await activations.expire(now=stored[new.activation_id] + week) == 1
    assert await activations.get(old.namespace, old.activation_id) is None
    assert await activations.get(new.namespace, new.activation_id) == new
    assert await activations.expire(now=datetime.now(UTC)) == 0
