"""Redis streams: publish, consume in consumer groups, acknowledge, reclaim; invoker heartbeats.

Delivery is at least once. A consumer acknowledges an entry only after its work is recorded;
an entry whose consumer died stays pending and is reclaimed with XAUTOCLAIM.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from stratus.errors import StoreUnavailable
from stratus.messages import DEAD_LETTER, INVOKERS_KEY, Heartbeat

log = logging.getLogger(__name__)

Fields = Mapping[bytes, bytes]
Entry = tuple[str, Mapping[str, str]]  # (stream, fields) to publish
SOCKET_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 256  # per process; Redis's own default limit is 10,000 clients
MAX_BLOCK_MS = 2000


@dataclass(frozen=True)
class Delivery:
    stream: str
    group: str
    entry_id: str
    fields: Fields


class MessageBus(Protocol):
    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        """Append one entry; returns its id. `maxlen` trims the stream approximately."""

    async def publish_many(self, entries: Sequence[Entry], *, maxlen: int | None = None) -> None:
        """Append several entries, in order, in one round trip (not atomically)."""

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the group (and the stream) if missing. Idempotent."""

    async def consume(self, stream: str, group: str, consumer: str, *, count: int, block_ms: int) -> list[Delivery]:
        """New entries for this consumer; empty after `block_ms` without any."""

    async def pending(self, stream: str, group: str, consumer: str, *, count: int) -> list[Delivery]:
        """Entries delivered to this consumer earlier and never acknowledged (e.g. before a restart)."""

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        """Take over entries pending longer than `min_idle_ms` at any consumer of the group."""

    async def ack(self, delivery: Delivery) -> None: ...

    async def forward(
        self, delivery: Delivery, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None
    ) -> None:
        """Publish to `stream` and acknowledge `delivery` atomically: both happen or neither."""

    async def dead_letter(self, delivery: Delivery) -> None:
        """Move an undecodable entry aside and acknowledge it."""

    async def read(self, stream: str, last_id: str, *, count: int, block_ms: int) -> list[tuple[str, Fields]]:
        """Plain XREAD after `last_id` ("$" for only new entries), no group."""

    async def expire(self, stream: str, seconds: int) -> None: ...

    async def put_heartbeat(self, heartbeat: Heartbeat) -> None: ...

    async def heartbeats(self) -> list[Heartbeat]: ...

    async def remove_heartbeat(self, invoker_id: str) -> None: ...

    async def close(self) -> None: ...


def redis_client(url: str) -> aioredis.Redis:
    """A Redis client as every Stratus component needs one.

    Blocking reads must block for less than the socket timeout (MAX_BLOCK_MS < SOCKET_TIMEOUT_S).
    Each command in flight holds a connection; past MAX_CONNECTIONS a command waits for one (up to the
    socket timeout) instead of failing at once, as redis-py's default pool does at its limit.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=SOCKET_TIMEOUT_S,
        decode_responses=False,
        health_check_interval=30,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=5,
    )
    return aioredis.Redis.from_pool(pool)


class RedisStreamBus:
    def __init__(self, client: "aioredis.Redis") -> None:
        self._redis = client

    @classmethod
    def from_url(cls, url: str) -> "RedisStreamBus":
        return cls(redis_client(url))

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        try:
            entry_id: Any = await self._redis.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
        except RedisError as exc:
            raise StoreUnavailable(f"could not publish to {stream}: {exc}") from exc
        return str(entry_id.decode())

    async def publish_many(self, entries: Sequence[Entry], *, maxlen: int | None = None) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for stream, fields in entries:
                    pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(f"could not publish to {', '.join(s for s, _ in entries)}: {exc}") from exc

    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise StoreUnavailable(f"could not create group {group} on {stream}: {exc}") from exc
        except RedisError as exc:
            raise StoreUnavailable(f"could not create group {group} on {stream}: {exc}") from exc

    async def consume(self, stream: str, group: str, consumer: str, *, count: int, block_ms: int) -> list[Delivery]:
        return await self._read_group(stream, group, consumer, ">", count, block_ms)

    async def pending(self, stream: str, group: str, consumer: str, *, count: int) -> list[Delivery]:
        return await self._read_group(stream, group, consumer, "0", count, None)

    async def _read_group(
        self, stream: str, group: str, consumer: str, start: str, count: int, block_ms: int | None
    ) -> list[Delivery]:
        try:
            reply: Any = await self._redis.xreadgroup(group, consumer, {stream: start}, count=count, block=block_ms)
        except RedisError as exc:
            raise StoreUnavailable(f"could not read {stream}: {exc}") from exc
        return [
            Delivery(stream, group, entry_id.decode(), fields)
            for _, entries in reply or []
            for entry_id, fields in entries
            if fields  # a pending entry trimmed away comes back empty
        ]

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        try:
            reply: Any = await self._redis.xautoclaim(stream, group, consumer, min_idle_ms, start_id="0-0", count=count)
        except RedisError as exc:
            raise StoreUnavailable(f"could not claim from {stream}: {exc}") from exc
        return [Delivery(stream, group, entry_id.decode(), fields) for entry_id, fields in reply[1] if fields]

    async def ack(self, delivery: Delivery) -> None:
        try:
            await self._redis.xack(delivery.stream, delivery.group, delivery.entry_id)
        except RedisError as exc:
            raise StoreUnavailable(f"could not ack {delivery.entry_id}: {exc}") from exc

    async def forward(
        self, delivery: Delivery, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None
    ) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
                pipe.xack(delivery.stream, delivery.group, delivery.entry_id)
                await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(f"could not forward {delivery.entry_id} to {stream}: {exc}") from exc

    async def dead_letter(self, delivery: Delivery) -> None:
        log.warning("dead-lettering entry %s of %s", delivery.entry_id, delivery.stream)
        fields = {k.decode(): v.decode(errors="replace") for k, v in delivery.fields.items()}
        await self.publish(DEAD_LETTER, fields | {"source": delivery.stream}, maxlen=10_000)
        await self.ack(delivery)

    async def read(self, stream: str, last_id: str, *, count: int, block_ms: int) -> list[tuple[str, Fields]]:
        try:
            reply: Any = await self._redis.xread({stream: last_id}, count=count, block=block_ms)
        except RedisError as exc:
            raise StoreUnavailable(f"could not read {stream}: {exc}") from exc
        return [(entry_id.decode(), fields) for _, entries in reply or [] for entry_id, fields in entries]

    async def expire(self, stream: str, seconds: int) -> None:
        try:
            await self._redis.expire(stream, seconds)
        except RedisError as exc:
            raise StoreUnavailable(f"could not set expiry on {stream}: {exc}") from exc

    async def put_heartbeat(self, heartbeat: Heartbeat) -> None:
        try:
            await self._redis.hset(INVOKERS_KEY, heartbeat.invoker_id, heartbeat.model_dump_json())
        except RedisError as exc:
            raise StoreUnavailable(f"could not record heartbeat: {exc}") from exc

    async def heartbeats(self) -> list[Heartbeat]:
        try:
            raw = await self._redis.hgetall(INVOKERS_KEY)
        except RedisError as exc:
            raise StoreUnavailable(f"could not read heartbeats: {exc}") from exc
        beats = []
        for value in raw.values():
            try:
                beats.append(Heartbeat.model_validate_json(value))
            except ValueError:
                log.warning("ignoring an undecodable heartbeat")
        return beats

    async def remove_heartbeat(self, invoker_id: str) -> None:
        try:
            await self._redis.hdel(INVOKERS_KEY, invoker_id)
        except RedisError as exc:
            raise StoreUnavailable(f"could not remove heartbeat: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()
