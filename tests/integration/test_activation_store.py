"""ActivationStore against the MongoDB wire protocol (SecantusDB) through PyMongo's async client."""

from datetime import datetime

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
    await activations.keep_for(3600)
    await activations.keep_for(7 * 24 * 3600)  # changed: applies to every record
    collection = activations._collection
    indexes = {i["name"]: i async for i in await collection.list_indexes()}
    assert indexes["retention"]["expireAfterSeconds"] == 7 * 24 * 3600
    assert dict(indexes["retention"]["key"]) == {"recordedAt": 1}
    record = make_activation()
    await activations.put(record)
    stored = await collection.find_one({"_id": record.activation_id})
    assert stored is not None and isinstance(stored["recordedAt"], datetime)
    assert await activations.get(record.namespace, record.activation_id) == record  # the field stays internal
