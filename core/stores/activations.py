"""Activation records in MongoDB through PyMongo's async API (the only pymongo import in Stratus)."""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import bson
from bson.errors import InvalidDocument
from pymongo import DESCENDING, AsyncMongoClient, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from core.errors import StoreUnavailable
from core.models import Activation, ActivationResponse

log = logging.getLogger(__name__)

Document = dict[str, Any]
DUPLICATE_KEY = 11000  # the record exists already: what idempotence wants
INDEX_NOT_FOUND = 27
RECORDED = "recordedAt"  # a date: when the record was written
RECORDED_INDEX = "recorded"
OLD_TTL_INDEX = "retention"  # the TTL index earlier versions made; expiry is `expire`'s now


class ActivationStore(Protocol):
    """Activation records; one per accepted activation, whatever happened to it."""

    async def put_many(self, activations: Sequence[Activation]) -> None:
        """Insert each record unless one with its id exists (then that one is kept): idempotent, so a batch
        written again after a failure part-way, or a record delivered twice, still leaves exactly one.
        Raises StoreUnavailable when any record may not have been written; retrying the batch is safe."""

    async def put(self, activation: Activation) -> None:
        """`put_many` of one."""

    async def keep_for(self, seconds: float) -> None:
        """Records are kept this long after they were written; `expire` deletes them after that (the store
        never grows without bound). Idempotent; a changed value applies to every record."""

    async def expire(self, now: datetime | None = None) -> int:
        """Delete the records written more than `keep_for` before `now`; how many. The controllers call it
        every second, so each call deletes what expired since the last one."""

    async def get(self, namespace: str, activation_id: str) -> Activation | None:
        """Scoped: another namespace's activation is None."""

    async def list_recent(
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
        limit: int,
        skip: int = 0,
    ) -> list[Activation]:
        """Newest first by `start`; `since` / `upto` are inclusive epoch-ms bounds on `start`."""

    async def count(
        self, namespace: str, *, name: str | None = None, since: int | None = None, upto: int | None = None
    ) -> int: ...


def _document(activation: Activation, now: datetime) -> Document:
    return activation.model_dump(mode="json", by_alias=True) | {"_id": activation.activation_id, RECORDED: now}


def _encodes(doc: Document) -> bool:
    try:
        bson.encode(doc)
    except (InvalidDocument, OverflowError, ValueError):
        return False
    return True


def _storable(activation: Activation, now: datetime) -> Document:
    """The record of an activation whose own record BSON cannot hold (a key with NUL, an integer past 64
    bits): still one record, saying why, with its logs when they can be kept."""
    log.warning("activation %s: its record cannot be stored as it is; storing why instead", activation.activation_id)
    error = "The action's result could not be stored (a key with a NUL character, or an integer beyond 64 bits)."
    response = ActivationResponse(status="action developer error", result={"error": error})
    doc = _document(activation.model_copy(update={"response": response}), now)
    return doc if _encodes(doc) else _document(activation.model_copy(update={"response": response, "logs": []}), now)


def _filter(namespace: str, name: str | None, since: int | None, upto: int | None) -> Document:
    query: Document = {"namespace": namespace}
    if name is not None:
        query["name"] = name.split("/")[-1]
    bounds = {op: v for op, v in (("$gte", since), ("$lte", upto)) if v is not None}
    if bounds:
        query["start"] = bounds
    return query


class MongoActivationStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection
        # Journaled: a write is acknowledged once it survives a crash of the store (its records are then
        # deleted from the outbox). Batches make the journal flush cheap: one per put_many, not per record.
        self._durable = collection.with_options(write_concern=WriteConcern(w=1, j=True))
        self._keep: timedelta | None = None  # set by keep_for: until then nothing expires

    async def ensure_indexes(self) -> None:
        try:
            await self._collection.create_index([("namespace", 1), ("start", DESCENDING)])
            await self._collection.create_index([("namespace", 1), ("name", 1), ("start", DESCENDING)])
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not create activation indexes: {exc}") from exc

    async def put_many(self, activations: Sequence[Activation]) -> None:
        if not activations:
            return
        now = datetime.now(UTC)
        docs = [_document(a, now) for a in activations]
        try:
            await self._insert(docs)
        except (InvalidDocument, OverflowError, ValueError):  # one BSON cannot hold: found before it was sent
            await self._insert(
                [
                    _document(a, now) if _encodes(d) else _storable(a, now)
                    for a, d in zip(activations, docs, strict=True)
                ]
            )

    async def _insert(self, docs: list[Document]) -> None:
        try:
            await self._durable.insert_many(docs, ordered=False)  # one round trip; unordered: all are tried
        except BulkWriteError as exc:
            failed = [e for e in exc.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
            if failed or exc.details.get("writeConcernErrors"):
                raise StoreUnavailable(f"could not write {len(failed)} of {len(docs)} activations: {exc}") from exc
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not write {len(docs)} activations: {exc}") from exc

    async def put(self, activation: Activation) -> None:
        await self.put_many([activation])

    async def keep_for(self, seconds: float) -> None:
        """Expiry is a ranged delete on a plain index, not a TTL index. SecantusDB's TTL sweeper (the
        embedded store) reads and decodes every record of a collection with a TTL index once a minute,
        holding the store's lock: writes paused 4.2, 9.2 and 12.9 s at 300k, 570k and 800k records. A
        ranged delete costs what it deletes (0.14 ms a record there; 1 ms when nothing expired, at 857k),
        and does the same on MongoDB and on every store that speaks its protocol."""
        try:
            if OLD_TTL_INDEX in await self._collection.index_information():
                try:
                    await self._collection.drop_index(OLD_TTL_INDEX)
                except OperationFailure as exc:
                    if exc.code != INDEX_NOT_FOUND:  # another controller dropped it first
                        raise
            await self._collection.create_index(RECORDED, name=RECORDED_INDEX)
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not set the activation records' retention: {exc}") from exc
        self._keep = timedelta(seconds=seconds)

    async def expire(self, now: datetime | None = None) -> int:
        if self._keep is None:
            return 0
        cutoff = (now or datetime.now(UTC)) - self._keep
        try:
            deleted = await self._collection.delete_many({RECORDED: {"$lt": cutoff}})
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not delete expired activations: {exc}") from exc
        return deleted.deleted_count

    async def get(self, namespace: str, activation_id: str) -> Activation | None:
        try:
            doc = await self._collection.find_one({"_id": activation_id, "namespace": namespace})
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not read activation {activation_id}: {exc}") from exc
        return Activation.model_validate(doc) if doc else None

    async def list_recent(  # the Protocol's signature again, as every implementation repeats it
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
        limit: int,
        skip: int = 0,
    ) -> list[Activation]:
        cursor = (
            self._collection.find(_filter(namespace, name, since, upto))
            .sort([("start", DESCENDING), ("_id", DESCENDING)])
            .skip(skip)
            .limit(limit)
        )
        try:
            return [Activation.model_validate(doc) async for doc in cursor]
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not list activations: {exc}") from exc

    async def count(
        self, namespace: str, *, name: str | None = None, since: int | None = None, upto: int | None = None
    ) -> int:
        try:
            return await self._collection.count_documents(_filter(namespace, name, since, upto))
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not count activations: {exc}") from exc


async def open_activation_store(url: str, db_name: str) -> tuple[AsyncMongoClient[Document], MongoActivationStore]:
    """A client and the store on `db_name.activations`, indexes ensured. The caller closes the client."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(url, serverSelectionTimeoutMS=10_000, tz_aware=False)
    store = MongoActivationStore(client[db_name]["activations"])
    await store.ensure_indexes()
    return client, store
