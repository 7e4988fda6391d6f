"""Opening the clients every service shares: the entity store, the activation store, the bus and the ledger."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.bus import MessageBus, RedisStreamBus, redis_client
from core.ledger import Ledger, RedisLedger
from core.stores.activations import ActivationStore, open_activation_store
from core.stores.entities import EntityStore, SqlEntityStore


@dataclass(frozen=True)
class CoreBackends:
    entities: EntityStore
    activations: ActivationStore
    bus: MessageBus
    ledger: Ledger  # shares the bus's Redis client: closed with it


@asynccontextmanager
async def open_core(redis_url: str, mongo_url: str, mongo_db: str, entities_url: str) -> AsyncIterator[CoreBackends]:
    entities = SqlEntityStore(entities_url)
    await entities.start()
    mongo, activations = await open_activation_store(mongo_url, mongo_db)
    redis = redis_client(redis_url)
    bus = RedisStreamBus(redis)
    try:
        yield CoreBackends(entities, activations, bus, RedisLedger(redis))
    finally:
        await bus.close()
        await mongo.close()
        await entities.close()
