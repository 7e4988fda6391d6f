"""Redis streams: publish, consume in consumer groups, acknowledge, reclaim; invoker heartbeats; pub/sub
announcements (action changes).

Delivery is at least once. A consumer acknowledges an entry only after its work is recorded;
an entry whose consumer died stays pending and is reclaimed with XAUTOCLAIM. An acknowledged entry is
deleted: a stream holds only work not yet done, so Redis memory follows the backlog, not the history.

Publishes and acks made while a round trip is under way go out together in the next one
(core.coalesce): under load each costs a fraction of a round trip.
"""

import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import RedisError, ResponseError

from core.coalesce import Coalescer
from core.errors import StoreUnavailable
from core.messages import DEAD_LETTER, INVOKERS_KEY, METRICS_TARGETS, Heartbeat, MetricsTarget
from core.redis_lane import Lane, field_map
from core.redis_wire import checked

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

Fields = Mapping[bytes, bytes]
_Publish = tuple[str, Mapping[str, str], int | None]  # (stream, fields, maxlen)
SOCKET_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 256  # per process; Redis's own default limit is 10,000 clients
MAX_BLOCK_MS = 2000
LISTEN_POLL_S = 1.0  # a pub/sub listener checks its connection this often when nothing comes
DELETE_IF_EMPTY = (
    "if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('XLEN', KEYS[1]) == 0 then "
    "return redis.call('DEL', KEYS[1]) end return 0"
)


@dataclass(frozen=True)
class Delivery:
    stream: str
    group: str
    entry_id: str
    fields: Fields
    consumer: str = ""  # who it was delivered to


class MessageBus(Protocol):
    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        """Append one entry; returns its id. `maxlen` trims the stream approximately."""

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the group (and the stream) if missing. Idempotent."""

    async def consume(self, stream: str, group: str, consumer: str, *, count: int, block_ms: int) -> list[Delivery]:
        """New entries for this consumer; empty after `block_ms` without any (0: do not wait)."""

    async def pending(self, stream: str, group: str, consumer: str, *, count: int) -> list[Delivery]:
        """Entries delivered to this consumer earlier and never acknowledged (e.g. before a restart)."""

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        """Take over entries pending longer than `min_idle_ms` at any consumer of the group."""

    async def touch(self, deliveries: Sequence[Delivery]) -> None:
        """Still being worked on: reset their idle time, so that no claim takes them over meanwhile."""

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge and delete the entry: its work is done."""

    async def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """`ack` each, in one round trip."""

    async def dead_letter(self, delivery: Delivery) -> None:
        """Move an undecodable entry aside and acknowledge it."""

    async def read(self, stream: str, last_id: str, *, count: int, block_ms: int) -> list[tuple[str, Fields]]:
        """Plain XREAD after `last_id` ("$" for only new entries), no group; `block_ms` 0: do not wait."""

    async def expire(self, stream: str, seconds: int) -> None: ...

    async def read_entry(self, stream: str, entry_id: str) -> Fields | None:
        """One entry by id; None when it is gone."""

    async def put_state(self, key: str, value: str, *, ttl_s: int) -> None:
        """A small value that outlives a process (a sequence's progress), for `ttl_s` at most."""

    async def get_state(self, key: str) -> str | None: ...

    async def delete_state(self, key: str) -> None: ...

    async def lease(self, key: str, holder: str, *, ttl_ms: int) -> bool:
        """Take `key` for `ttl_ms` unless someone else holds it (True: ours). Who holds it may renew it."""

    async def delete_if_done(self, stream: str) -> None:
        """Delete the stream (and its groups) when it holds no entry: the stream of an owner gone for good."""

    async def trim_before(self, stream: str, entry_id: str) -> None:
        """Drop entries older than `entry_id` (approximately: whole internal nodes), for streams read
        without a group."""

    async def put_heartbeat(self, heartbeat: Heartbeat) -> None: ...

    async def put_metrics_target(self, target: MetricsTarget) -> None: ...

    async def metrics_targets(self) -> list[MetricsTarget]: ...

    async def remove_metrics_target(self, controller_id: str) -> None: ...

    async def length(self, stream: str) -> int:
        """Entries in `stream` (acknowledged ones are deleted: the work not yet done)."""

    async def announce(self, channel: str, message: str) -> None:
        """To whoever listens on `channel` now (pub/sub: kept for nobody)."""

    def listen(self, channel: str) -> AsyncIterator[bytes]:
        """Messages announced on `channel` from now on; raises StoreUnavailable when Redis is away."""

    async def heartbeats(self) -> list[Heartbeat]: ...

    async def remove_heartbeat(self, invoker_id: str) -> None: ...

    async def close(self) -> None: ...


def _slices(block_ms: int) -> Sequence[int | None]:
    """A wait of `block_ms` as blocking reads the socket timeout allows (None: do not block)."""
    if block_ms <= 0:
        return [None]
    full, rest = divmod(block_ms, MAX_BLOCK_MS)
    return [MAX_BLOCK_MS] * full + ([rest] if rest else [])


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


@contextlib.contextmanager
def _unavailable_on_error(what: str) -> Iterator[None]:
    """A Redis error inside as StoreUnavailable("could not <what>: <the error>")."""
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailable(f"could not {what}: {exc}") from exc


class RedisStreamBus:
    def __init__(self, client: "aioredis.Redis") -> None:
        self._redis = client
        self._publishes: Coalescer[_Publish, str] = Coalescer(self._publish_batch)
        self._delete_if_empty = client.register_script(DELETE_IF_EMPTY)
        self._acks: Coalescer[Delivery, None] = Coalescer(self._ack_batch)
        # Each caller that sends a batch at a time gets a connection of its own (core.redis_lane): the
        # two coalescers, and each stream's reader.
        self._publish_lane, self._ack_lane = Lane(client), Lane(client)
        self._read_lanes: dict[str, Lane] = {}

    @classmethod
    def from_url(cls, url: str) -> "RedisStreamBus":
        return cls(redis_client(url))

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        return await self._publishes.submit((stream, fields, maxlen))

    async def _publish_batch(self, batch: Sequence[_Publish]) -> list[str | BaseException]:
        try:
            replies = await self._publish_lane.call([_xadd(stream, fields, maxlen) for stream, fields, maxlen in batch])
        except RedisError as exc:
            raise StoreUnavailable(f"could not publish to {batch[0][0]}: {exc}") from exc
        return [
            StoreUnavailable(f"could not publish to {stream}: {r}") if isinstance(r, Exception) else r.decode()
            for (stream, _, _), r in zip(batch, replies, strict=True)
        ]

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
        lane = self._read_lane(f"{stream}|{group}|{consumer}")
        entries: list[tuple[str, Fields]] = []
        for wait_ms in _slices(block_ms or 0):
            block = () if wait_ms is None else ("BLOCK", wait_ms)
            command = ("XREADGROUP", "GROUP", group, consumer, "COUNT", count, *block, "STREAMS", stream, start)
            with _unavailable_on_error(f"read {stream}"):
                entries = _entries(await _one(lane, command))
            if entries:
                break
        return [
            Delivery(stream, group, entry_id, fields, consumer)
            for entry_id, fields in entries
            if fields  # a pending entry trimmed away comes back empty
        ]

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        with _unavailable_on_error(f"claim from {stream}"):
            reply: Any = await self._redis.xautoclaim(stream, group, consumer, min_idle_ms, start_id="0-0", count=count)
        return [Delivery(stream, group, entry_id.decode(), fields, consumer) for entry_id, fields in reply[1] if fields]

    async def touch(self, deliveries: Sequence[Delivery]) -> None:
        by_owner: dict[tuple[str, str, str], list[str | int | bytes | memoryview]] = defaultdict(list)
        for d in deliveries:
            by_owner[(d.stream, d.group, d.consumer)].append(d.entry_id)
        with _unavailable_on_error(f"touch {len(deliveries)} entries"):
            for (stream, group, consumer), ids in by_owner.items():
                await self._redis.xclaim(stream, group, consumer, 0, ids, justid=True)

    async def ack(self, delivery: Delivery) -> None:
        await self._acks.submit(delivery)

    async def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            await self._ack_batch(deliveries)

    async def _ack_batch(self, deliveries: Sequence[Delivery]) -> list[None]:
        by_stream: dict[tuple[str, str], list[str]] = defaultdict(list)
        for delivery in deliveries:
            by_stream[(delivery.stream, delivery.group)].append(delivery.entry_id)
        commands = []
        for (stream, group), entry_ids in by_stream.items():
            commands += [("XACK", stream, group, *entry_ids), ("XDEL", stream, *entry_ids)]
        with _unavailable_on_error(f"ack {len(deliveries)} entries"):
            checked(await self._ack_lane.call(commands))
        return [None] * len(deliveries)

    async def dead_letter(self, delivery: Delivery) -> None:
        log.warning("dead-lettering entry %s of %s", delivery.entry_id, delivery.stream)
        fields = {k.decode(): v.decode(errors="replace") for k, v in delivery.fields.items()}
        await self.publish(DEAD_LETTER, fields | {"source": delivery.stream}, maxlen=10_000)
        await self.ack(delivery)

    async def read(self, stream: str, last_id: str, *, count: int, block_ms: int) -> list[tuple[str, Fields]]:
        if last_id == "$":  # "only new": pin it, or each slice of a long wait would start over
            last_id = await self._last_id(stream)
        lane = self._read_lane(stream)
        for wait_ms in _slices(block_ms):
            block = () if wait_ms is None else ("BLOCK", wait_ms)
            with _unavailable_on_error(f"read {stream}"):
                entries = _entries(await _one(lane, ("XREAD", "COUNT", count, *block, "STREAMS", stream, last_id)))
            if entries:
                return entries
        return []

    async def _last_id(self, stream: str) -> str:
        with _unavailable_on_error(f"read {stream}"):
            newest: Any = await self._redis.xrevrange(stream, count=1)
        return str(newest[0][0].decode()) if newest else "0-0"

    async def expire(self, stream: str, seconds: int) -> None:
        with _unavailable_on_error(f"set expiry on {stream}"):
            await self._redis.expire(stream, seconds)

    async def read_entry(self, stream: str, entry_id: str) -> Fields | None:
        with _unavailable_on_error(f"read {stream}"):
            found: Any = await self._redis.xrange(stream, entry_id, entry_id, count=1)
        return found[0][1] if found else None

    async def put_state(self, key: str, value: str, *, ttl_s: int) -> None:
        with _unavailable_on_error(f"write {key}"):
            await self._redis.set(key, value, ex=ttl_s)

    async def get_state(self, key: str) -> str | None:
        with _unavailable_on_error(f"read {key}"):
            found: Any = await self._redis.get(key)
        return found.decode() if found is not None else None

    async def delete_state(self, key: str) -> None:
        with _unavailable_on_error(f"delete {key}"):
            await self._redis.delete(key)

    async def lease(self, key: str, holder: str, *, ttl_ms: int) -> bool:
        with _unavailable_on_error(f"take the lease {key}"):
            if await self._redis.set(key, holder, px=ttl_ms, nx=True):
                return True
            current: Any = await self._redis.get(key)
            if current is not None and current.decode() == holder:
                await self._redis.pexpire(key, ttl_ms)
                return True
            return False

    async def delete_if_done(self, stream: str) -> None:
        with _unavailable_on_error(f"delete {stream}"):
            await self._delete_if_empty(keys=[stream])

    async def trim_before(self, stream: str, entry_id: str) -> None:
        with _unavailable_on_error(f"trim {stream}"):
            await self._redis.xtrim(stream, minid=entry_id, approximate=True)

    async def put_heartbeat(self, heartbeat: Heartbeat) -> None:
        with _unavailable_on_error("record heartbeat"):
            await self._redis.hset(INVOKERS_KEY, heartbeat.invoker_id, heartbeat.model_dump_json())

    async def heartbeats(self) -> list[Heartbeat]:
        return await self._hash_values(INVOKERS_KEY, Heartbeat, "read heartbeats", "ignoring an undecodable heartbeat")

    async def remove_heartbeat(self, invoker_id: str) -> None:
        with _unavailable_on_error("remove heartbeat"):
            await self._redis.hdel(INVOKERS_KEY, invoker_id)

    async def put_metrics_target(self, target: MetricsTarget) -> None:
        with _unavailable_on_error("advertise metrics"):
            await self._redis.hset(METRICS_TARGETS, target.controller_id, target.model_dump_json())

    async def metrics_targets(self) -> list[MetricsTarget]:
        return await self._hash_values(METRICS_TARGETS, MetricsTarget, "read metrics targets")

    async def _hash_values(self, key: str, model: type[M], what: str, undecodable: str | None = None) -> list[M]:
        """The values of the hash `key` that parse as `model`; the others are skipped (logged as `undecodable`)."""
        with _unavailable_on_error(what):
            raw = await self._redis.hgetall(key)
        found = []
        for value in raw.values():
            try:
                found.append(model.model_validate_json(value))
            except ValueError:
                if undecodable is not None:
                    log.warning(undecodable)
        return found

    async def remove_metrics_target(self, controller_id: str) -> None:
        with _unavailable_on_error("remove a metrics target"):
            await self._redis.hdel(METRICS_TARGETS, controller_id)

    async def length(self, stream: str) -> int:
        with _unavailable_on_error(f"read the length of {stream}"):
            return int(await self._redis.xlen(stream))

    async def announce(self, channel: str, message: str) -> None:
        with _unavailable_on_error(f"announce on {channel}"):
            await self._redis.publish(channel, message)

    async def listen(self, channel: str) -> AsyncIterator[bytes]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            while True:
                message = await pubsub.get_message(timeout=LISTEN_POLL_S)
                if message is not None and message["type"] == "message":
                    yield message["data"]
        except RedisError as exc:
            raise StoreUnavailable(f"could not listen on {channel}: {exc}") from exc
        finally:
            with contextlib.suppress(RedisError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _read_lane(self, reader: str) -> Lane:
        lane = self._read_lanes.get(reader)
        if lane is None:
            lane = self._read_lanes[reader] = Lane(self._redis)
        return lane

    async def close(self) -> None:
        await self._redis.aclose()


def _xadd(stream: str, fields: Mapping[str, str], maxlen: int | None) -> tuple[str | int, ...]:
    trim = () if maxlen is None else ("MAXLEN", "~", maxlen)
    return ("XADD", stream, *trim, "*", *(part for pair in fields.items() for part in pair))


async def _one(lane: Lane, command: tuple[str | int, ...]) -> Any:
    (reply,) = checked(await lane.call([command]))
    return reply


def _entries(reply: Any) -> list[tuple[str, Fields]]:
    """XREAD / XREADGROUP's entries of one stream: a map of streams in RESP3, a list of pairs in RESP2;
    nil when nothing came."""
    if not reply:
        return []
    ((_, entries),) = reply.items() if isinstance(reply, dict) else reply
    return [(entry_id.decode(), field_map(fields)) for entry_id, fields in entries]
