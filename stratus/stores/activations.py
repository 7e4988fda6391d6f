"""Activation records in MongoDB through PyMongo's async API (the only pymongo import in Stratus)."""

import logging
from typing import Any, Protocol

from pymongo import DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from stratus.errors import StoreUnavailable
from stratus.models import Activation

log = logging.getLogger(__name__)

Document = dict[str, Any]


class ActivationStore(Protocol):
    """Activation records; one per accepted activation, whatever happened to it."""

    async def put(self, activation: Activation) -> None:
        """Insert or replace. Idempotent: a redelivered Dispatch writes twice."""

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

    async def ensure_indexes(self) -> None:
        try:
            await self._collection.create_index([("namespace", 1), ("start", DESCENDING)])
            await self._collection.create_index([("namespace", 1), ("name", 1), ("start", DESCENDING)])
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not create activation indexes: {exc}") from exc

    async def put(self, activation: Activation) -> None:
        doc = activation.model_dump(mode="json", by_alias=True) | {"_id": activation.activation_id}
        try:
            await self._collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not write activation {activation.activation_id}: {exc}") from exc

    async def get(self, namespace: str, activation_id: str) -> Activation | None:
        try:
            doc = await self._collection.find_one({"_id": activation_id, "namespace": namespace})
        except PyMongoError as exc:
            raise StoreUnavailable(f"could not read activation {activation_id}: {exc}") from exc
        return Activation.model_validate(doc) if doc else None

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
