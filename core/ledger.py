"""Counters every gateway and controller share, kept in Redis so that several of each stay correct.

- **Slot books**, one hash per invoker (`stratus:slots:<invoker>`): `mem` = memory MB booked by
  in-flight activations, `n:<action key>` = in-flight activations of one action there. An action with
  concurrency c books a container's memory on its 1st, (c+1)th, ... activation (the same rule as
  `core.sharding.extra_memory_mb`, mirrored in RESERVE/RELEASE below).
- **Reservations** (`stratus:reservations`): activation id -> what it booked, so that a release is
  idempotent (a redelivered completion releases nothing twice) and any controller can release.
- **Namespace ledger**: a sorted set of in-flight activation ids per namespace (score: when the entry
  expires, so a lost activation never pins the count) and a counter per namespace and wall-clock minute.

Every check-and-change is one Lua script: atomic across processes. Two of them also move the stream
entries that must go with the change, so that one round trip does what an activation needs at each end:
- **place** (a gateway or a controller, core.placer): book the slots, append the Dispatch to the
  invoker's stream, ack and delete the Invocation entry it came from, if any. Either all of it happens
  or, when the invoker has no room, none of it.
- **end** (invoker, or a controller failing an activation): give the slots back, end the namespace's
  in-flight entry, append the record to the records outbox (`stratus:records`) and the reply to the
  gateway's stream, ack and delete the entry that carried the work. A record is durable from here on
  (Redis, append-only file); a recorder writes the outbox to the activation store in batches.
Both are pipelined for a batch of activations: the round trip is paid once per batch.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from core.bus import Delivery, redis_client
from core.coalesce import Coalescer
from core.errors import StoreUnavailable
from core.ids import ActivationId, InvokerId
from core.messages import RECORDS
from core.redis_lane import Lane, field_map
from core.redis_wire import checked

log = logging.getLogger(__name__)

RESERVATIONS_KEY = "stratus:reservations"


def slots_key(invoker_id: str) -> str:
    return f"stratus:slots:{invoker_id}"


def inflight_key(namespace: str) -> str:
    return f"stratus:inflight:{namespace}"


def minute_key(namespace: str, minute: int) -> str:
    return f"stratus:rate:{namespace}:{minute}"


@dataclass(frozen=True)
class Reservation:
    activation_id: ActivationId
    invoker_id: InvokerId
    action_key: str  # namespace + action revision: what shares a container's concurrency slots
    memory_mb: int
    concurrency: int
    namespace: str  # the invoking namespace: its in-flight entry ends with the release
    deadline_ms: int  # past it (plus a grace) an activation of a dead invoker is failed

    def to_json(self) -> str:
        return json.dumps(
            {
                "a": self.activation_id,
                "i": self.invoker_id,
                "k": self.action_key,
                "m": self.memory_mb,
                "c": self.concurrency,
                "ns": self.namespace,
                "d": self.deadline_ms,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Reservation":
        d = json.loads(raw)
        return cls(ActivationId(d["a"]), InvokerId(d["i"]), d["k"], int(d["m"]), int(d["c"]), d["ns"], int(d["d"]))


@dataclass(frozen=True)
class Books:
    """One invoker's books: memory booked by in-flight activations, and how many of each action key."""

    memory_mb: int = 0
    in_flight: Mapping[str, int] | None = None

    def of(self, action_key: str) -> int:
        return (self.in_flight or {}).get(action_key, 0)


@dataclass(frozen=True)
class Booking:
    """Book `reservation` and hand its Dispatch to the invoker, acknowledging the entry it came from."""

    reservation: Reservation
    capacity_mb: int
    force: bool  # book even past capacity (nobody has room: the invoker queues it)
    stream: str  # the invoker's stream
    fields: Mapping[str, str]  # the Dispatch
    source: Delivery | None  # acknowledged and deleted when the booking holds (None: a gateway placing directly)


@dataclass(frozen=True)
class Ending:
    """The end of an activation: slots back, in-flight entry gone, record out, caller answered, entry acked."""

    activation_id: ActivationId
    namespace: str
    record: Mapping[str, str]  # a messages.Record, for the outbox
    reply: tuple[str, Mapping[str, str]] | None  # (the gateway's reply stream, a Completion)
    source: Delivery | None  # the entry that carried the work, acknowledged and deleted


Refusal = Literal["per-minute", "concurrent"]


@dataclass(frozen=True)
class Refused:
    throttle: Refusal
    count: int  # the count that tripped it, this request included for per-minute
    allowed: int


class Ledger(Protocol):
    async def books(self, invoker_ids: Sequence[str]) -> list[Books]:
        """A snapshot of the books of these invokers, in the same order."""

    async def reserve(self, reservation: Reservation, capacity_mb: int, *, force: bool) -> bool:
        """Book the activation on its invoker if it fits (always with `force`). A reservation already
        held by this activation id is released first, so a retried placement never books twice."""

    async def place(self, bookings: Sequence[Booking]) -> list[bool]:
        """`reserve` each, and for each that holds, append its Dispatch and ack its source entry, atomically
        per booking; one round trip for all. False: no room (nothing changed for that one)."""

    async def end(self, endings: Sequence[Ending]) -> None:
        """End each activation atomically (see `Ending`); one round trip for all. Idempotent for the
        books: slots already given back are not given back twice."""

    async def release(self, activation_id: ActivationId) -> Reservation | None:
        """Give back what the activation booked; None (and nothing changed) when it holds nothing."""

    async def reservations(self) -> list[Reservation]: ...

    async def admit(
        self, namespace: str, activation_id: ActivationId, *, per_minute: int, concurrent: int, now_ms: int, ttl_ms: int
    ) -> Refused | None:
        """Count the invocation against the namespace's throttles (0: no limit); None when admitted.
        The per-minute count includes refused requests (OpenWhisk); a refused one is not in flight."""

    async def finish(self, namespace: str, activation_id: ActivationId) -> None:
        """The activation is no longer in flight. Idempotent."""

    async def in_flight(self, namespace: str, now_ms: int) -> int: ...

    async def close(self) -> None: ...


# Lua shared by the scripts below: give back what reservation `aid` booked; returns it (or false).
_GIVE_BACK = """
local function give_back(reservations, aid)
  local raw = redis.call('HGET', reservations, aid)
  if not raw then return false end
  local r = cjson.decode(raw)
  local slots = 'stratus:slots:' .. r.i
  local n = redis.call('HINCRBY', slots, 'n:' .. r.k, -1)
  if n <= 0 then redis.call('HDEL', slots, 'n:' .. r.k) end
  if (n % r.c) == 0 then redis.call('HINCRBY', slots, 'mem', -r.m) end
  redis.call('HDEL', reservations, aid)
  return raw
end
"""

# KEYS: slots of the invoker, reservations. ARGV: aid, action key, memory, concurrency, capacity, force, json.
_BOOK = """
local function book(slots, reservations, a)
  local aid, akey, mem, conc, cap = a[1], a[2], tonumber(a[3]), tonumber(a[4]), tonumber(a[5])
  give_back(reservations, aid)
  local n = tonumber(redis.call('HGET', slots, 'n:' .. akey) or '0')
  local extra = 0
  if (n % conc) == 0 then extra = mem end
  local booked = tonumber(redis.call('HGET', slots, 'mem') or '0')
  if a[6] ~= '1' and extra > 0 and booked + extra > cap then return 0 end
  redis.call('HINCRBY', slots, 'mem', extra)
  redis.call('HINCRBY', slots, 'n:' .. akey, 1)
  redis.call('HSET', reservations, aid, a[7])
  return 1
end
"""

RESERVE = _GIVE_BACK + _BOOK + "return book(KEYS[1], KEYS[2], ARGV)"

RELEASE = _GIVE_BACK + "return give_back(KEYS[1], ARGV[1])"

# KEYS: slots, reservations, the invoker's stream, the source stream.
# ARGV: the 7 of RESERVE, then the Dispatch body, the stream's max length, the source group, the source entry
# ('' for none: a gateway placing what it just accepted).
PLACE = (
    _GIVE_BACK
    + _BOOK
    + """
if book(KEYS[1], KEYS[2], ARGV) == 0 then return 0 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'body', ARGV[8])
if ARGV[11] ~= '' then
  redis.call('XACK', KEYS[4], ARGV[10], ARGV[11])
  redis.call('XDEL', KEYS[4], ARGV[11])
end
return 1
"""
)

# KEYS: reservations, the namespace's in-flight set, the records outbox, the reply stream, the source stream.
# ARGV: aid, record body, reply body ('' for none; '@record': a Completion naming the record's outbox entry),
# the reply stream's max length, source group, source entry ('').
END = (
    _GIVE_BACK
    + """
give_back(KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local rid = redis.call('XADD', KEYS[3], '*', 'body', ARGV[2])
local reply = ARGV[3]
if reply == '@record' then reply = cjson.encode({version=1, activation_id=ARGV[1], record_entry=rid}) end
if reply ~= '' then redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'body', reply) end
if ARGV[6] ~= '' then
  redis.call('XACK', KEYS[5], ARGV[5], ARGV[6])
  redis.call('XDEL', KEYS[5], ARGV[6])
end
return 1
"""
)
REPLY_MAXLEN = 100_000  # a gateway trims what it read; this bounds the stream of one that stopped reading
BY_REFERENCE = {"body": "@record"}  # an Ending's reply: the record is too large to travel twice; name its entry

ADMIT = """
local inflight, minute = KEYS[1], KEYS[2]
local aid, per_minute, concurrent, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5])
if per_minute > 0 then
  local count = redis.call('INCR', minute)
  if count == 1 then redis.call('EXPIRE', minute, 120) end
  if count > per_minute then return {'per-minute', count} end
end
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
if concurrent > 0 then
  local current = redis.call('ZCARD', inflight)
  if current >= concurrent then return {'concurrent', current} end
end
redis.call('ZADD', inflight, now + ttl, aid)
redis.call('PEXPIRE', inflight, ttl)
return false
"""


class RedisLedger:
    def __init__(self, client: "aioredis.Redis") -> None:
        self._redis = client
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)
        self._place = client.register_script(PLACE)
        self._end = client.register_script(END)
        self._admit = client.register_script(ADMIT)
        # each sends one batch at a time (a Coalescer's flush, a controller's placement of a batch)
        self._place_lane, self._end_lane, self._admit_lane = Lane(client), Lane(client), Lane(client)
        # admissions made while one batch is on its way share the next round trip (one pipeline of ADMIT
        # scripts, each atomic, in arrival order): with throttles set, every invocation is admitted first
        self._admissions: Coalescer[_Call, Any] = Coalescer(lambda calls: self._pipelined(calls, self._admit_lane))

    @classmethod
    def from_url(cls, url: str) -> "RedisLedger":
        return cls(redis_client(url))

    async def books(self, invoker_ids: Sequence[str]) -> list[Books]:
        try:  # read by the placer just before it places: on the same lane
            rows = checked(await self._place_lane.call([("HGETALL", slots_key(i)) for i in invoker_ids]))
            return [_books(row) for row in rows]
        except RedisError as exc:
            raise StoreUnavailable(f"could not read the slot books: {exc}") from exc

    async def reserve(self, reservation: Reservation, capacity_mb: int, *, force: bool) -> bool:
        args = _reserve_args(reservation, capacity_mb, force)
        try:
            done = await self._reserve(keys=[slots_key(reservation.invoker_id), RESERVATIONS_KEY], args=args)
        except RedisError as exc:
            raise StoreUnavailable(f"could not reserve slots: {exc}") from exc
        return bool(done)

    async def place(self, bookings: Sequence[Booking]) -> list[bool]:
        calls: list[_Call] = []
        for b in bookings:
            src = b.source
            keys = [slots_key(b.reservation.invoker_id), RESERVATIONS_KEY, b.stream, src.stream if src else b.stream]
            args = _reserve_args(b.reservation, b.capacity_mb, b.force)
            args += [b.fields["body"], STREAM_MAXLEN, *((src.group, src.entry_id) if src else ("", ""))]
            calls.append((self._place, keys, args))
        try:
            return [bool(d) for d in await self._pipelined(calls, self._place_lane)]
        except RedisError as exc:
            raise StoreUnavailable(f"could not place activations: {exc}") from exc

    async def end(self, endings: Sequence[Ending]) -> None:
        calls: list[_Call] = []
        for e in endings:
            reply_stream, reply = e.reply if e.reply else (RECORDS, {"body": ""})
            src = e.source
            keys = [RESERVATIONS_KEY, inflight_key(e.namespace), RECORDS, reply_stream, src.stream if src else RECORDS]
            args: list[str | int] = [e.activation_id, e.record["body"], reply["body"], REPLY_MAXLEN]
            args += [src.group, src.entry_id] if src else ["", ""]
            calls.append((self._end, keys, args))
        try:
            await self._pipelined(calls, self._end_lane)
        except RedisError as exc:
            raise StoreUnavailable(f"could not end activations: {exc}") from exc

    async def _pipelined(self, calls: Sequence["_Call"], lane: Lane) -> list[Any]:
        """EVALSHA each in one round trip; a script Redis lost (a restart) is loaded when EVALSHA says so.
        An error reply raises, as redis-py's pipeline does."""
        if not calls:
            return []
        commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for script, keys, args in calls]
        for attempt in range(2):
            replies = await lane.call(commands)
            if attempt == 0 and any(isinstance(r, NoScriptError) for r in replies):
                for script in {script.sha: script for script, _, _ in calls}.values():
                    await self._redis.script_load(script.script)
                continue
            return checked(replies)
        raise AssertionError("unreachable")

    async def release(self, activation_id: ActivationId) -> Reservation | None:
        try:
            raw = await self._release(keys=[RESERVATIONS_KEY], args=[activation_id])
        except RedisError as exc:
            raise StoreUnavailable(f"could not release slots: {exc}") from exc
        return Reservation.from_json(raw) if raw else None

    async def reservations(self) -> list[Reservation]:
        try:
            raw = await self._redis.hvals(RESERVATIONS_KEY)
        except RedisError as exc:
            raise StoreUnavailable(f"could not read reservations: {exc}") from exc
        return [Reservation.from_json(r) for r in raw]

    async def admit(
        self, namespace: str, activation_id: ActivationId, *, per_minute: int, concurrent: int, now_ms: int, ttl_ms: int
    ) -> Refused | None:
        keys = [inflight_key(namespace), minute_key(namespace, now_ms // 60_000)]
        try:
            refused = await self._admissions.submit(
                (self._admit, keys, [activation_id, per_minute, concurrent, now_ms, ttl_ms])
            )
        except RedisError as exc:
            raise StoreUnavailable(f"could not check throttles: {exc}") from exc
        if not refused:
            return None
        which: Refusal = "per-minute" if refused[0] == b"per-minute" else "concurrent"
        return Refused(which, int(refused[1]), per_minute if which == "per-minute" else concurrent)

    async def finish(self, namespace: str, activation_id: ActivationId) -> None:
        try:
            await self._redis.zrem(inflight_key(namespace), activation_id)
        except RedisError as exc:
            raise StoreUnavailable(f"could not end an in-flight entry: {exc}") from exc

    async def in_flight(self, namespace: str, now_ms: int) -> int:
        try:
            return int(await self._redis.zcount(inflight_key(namespace), now_ms, "+inf"))
        except RedisError as exc:
            raise StoreUnavailable(f"could not count in-flight activations: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()


STREAM_MAXLEN = 100_000  # an invoker's stream: a backlog bound far above any real queue
_Call = tuple[AsyncScript, list[str], list[str | int]]


def _reserve_args(reservation: Reservation, capacity_mb: int, force: bool) -> list[str | int]:
    return [
        reservation.activation_id,
        reservation.action_key,
        reservation.memory_mb,
        max(reservation.concurrency, 1),
        capacity_mb,
        "1" if force else "0",
        reservation.to_json(),
    ]


def _books(reply: Mapping[bytes, bytes] | list[bytes]) -> Books:
    """HGETALL of an invoker's slots."""
    row = field_map(reply)
    in_flight = {k[2:].decode(): int(v) for k, v in row.items() if k.startswith(b"n:")}
    return Books(int(row.get(b"mem", 0)), in_flight)
