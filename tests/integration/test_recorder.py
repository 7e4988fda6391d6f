"""The recorder on real Redis and a real MongoDB-wire server: every record in the outbox ends in the store
exactly once, also when a batch fails part-way or the store dies under it."""

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from pymongo import AsyncMongoClient

from controller.recorder import Recorder
from core.bus import RedisStreamBus
from core.ids import ActivationId
from core.messages import RECORDS, Record
from core.models import Activation, ActivationResponse
from core.stores.activations import Document, MongoActivationStore
from standalone.embedded import free_port
from tests.factories import make_activation


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisStreamBus]:
    db12 = redis_url.rsplit("/", 1)[0] + "/12"  # the outbox has one name: the test owns a database
    found = RedisStreamBus.from_url(db12)
    await found._redis.flushdb()
    yield found
    await found._redis.flushdb()
    await found.close()


def records(n: int) -> list[Activation]:
    return [make_activation(activation_id=ActivationId(uuid4().hex), start=i, end=i) for i in range(n)]


async def into_outbox(bus: RedisStreamBus, batch: list[Activation]) -> None:
    await asyncio.gather(*(bus.publish(RECORDS, Record(activation=a).to_fields()) for a in batch))


async def drained(bus: RedisStreamBus, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if await bus._redis.xlen(RECORDS) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the outbox still holds {await bus._redis.xlen(RECORDS)} records")


async def ids_in(collection: object) -> list[str]:
    return [doc["_id"] async for doc in collection.find({}, {"_id": 1})]  # type: ignore[attr-defined]


async def test_a_batch_written_part_way_before_ends_with_one_record_each(
    bus: RedisStreamBus, activations: MongoActivationStore
) -> None:
    batch = records(300)
    await activations.put_many(batch[100:180])  # what a first attempt wrote before it failed
    stop = asyncio.Event()
    recorder = asyncio.create_task(Recorder(bus, activations, "r1").run(stop))
    await into_outbox(bus, batch)
    await drained(bus)
    stop.set()
    await asyncio.wait_for(recorder, 10)
    assert await activations.count("ns") == 300
    for record in batch[::50]:
        assert await activations.get("ns", record.activation_id) == record


@pytest.fixture
def wire_server(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A MongoDB-wire server of the test's own, to kill and restart on the same port and storage."""
    port = free_port()
    argv = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--storage-path", str(tmp_path / "mongo"), "--standalone", "--log-level", "ERROR"]
    processes = [subprocess.Popen(argv)]
    yield f"mongodb://127.0.0.1:{port}/?directConnection=true", processes
    for process in processes:
        process.kill()
        process.wait()


async def test_records_survive_the_store_dying_mid_batch(
    bus: RedisStreamBus, wire_server: tuple[str, list[subprocess.Popen[bytes]]]
) -> None:
    url, processes = wire_server
    client: AsyncMongoClient[Document] = AsyncMongoClient(url, serverSelectionTimeoutMS=2_000)
    store = MongoActivationStore(client["stratus"]["activations"])
    stop = asyncio.Event()
    recorder = asyncio.create_task(Recorder(bus, store, "r1").run(stop))
    batch = records(4000)
    await into_outbox(bus, batch[:2000])
    for _ in range(200):  # the recorder is part-way through the outbox
        if 0 < await bus._redis.xlen(RECORDS) < 2000:
            break
        await asyncio.sleep(0.01)
    processes[0].send_signal(signal.SIGKILL)
    await asyncio.to_thread(processes[0].wait)
    await into_outbox(bus, batch[2000:])  # accepted meanwhile: they wait in the outbox
    await asyncio.sleep(1)
    processes.append(await asyncio.to_thread(subprocess.Popen, processes[0].args))  # same port, same storage
    await drained(bus)
    stop.set()
    await asyncio.wait_for(recorder, 10)
    stored = await ids_in(client["stratus"]["activations"])
    await client.close()
    assert len(stored) == len(set(stored)) == 4000
    assert set(stored) == {r.activation_id for r in batch}


async def test_a_record_bson_cannot_hold_is_stored_saying_why_and_the_others_as_they_are(
    bus: RedisStreamBus, activations: MongoActivationStore
) -> None:
    """A function once returned {"\\x00k": 1}: the whole batch failed to encode and the recorder died."""
    good = records(3)
    bad = [
        make_activation(response=ActivationResponse(status="success", result={"\x00k": 1}), logs=["a"]),
        make_activation(response=ActivationResponse(status="success", result={"n": 2**70})),
    ]
    stop = asyncio.Event()
    recorder = asyncio.create_task(Recorder(bus, activations, "r1").run(stop))
    await into_outbox(bus, good + bad)
    await drained(bus)
    stop.set()
    await asyncio.wait_for(recorder, 10)
    for record in good:
        assert await activations.get(record.namespace, record.activation_id) == record
    for record in bad:
        stored = await activations.get(record.namespace, record.activation_id)
        assert stored is not None and stored.response.status == "action developer error"
        assert "could not be stored" in stored.response.result["error"]
    assert (await activations.get(bad[0].namespace, bad[0].activation_id)).logs == ["a"]  # type: ignore[union-attr]
