"""Counters every gateway and controller share, kept in Redis so that several of each stay correct.

- **Slot books**, one hash per invoker (`stratus:slots:<invoker>`): `mem` = memory MB booked by
  in-flight activations, `n:<action key>` = in-flight activations of one action there. An action with
  concurrency c books a container's memory on its 1st, (c+1)th, ... activation (the same rule as
  `controller.scheduler.extra_memory_mb`, mirrored in RESERVE/RELEASE below).
- **Reservations** (`stratus:reservations`): activation id -> what it booked, so that a release is
  idempotent (a redelivered completion releases nothing twice) and any controller can release.
- **Namespace ledger**: a sorted set of in-flight activation ids per namespace (score: when the entry
  expires, so a lost activation never pins the count) and a counter per namespace and wall-clock minute.

Every check-and-change is one Lua script: atomic across processes.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from stratus.bus import redis_client
from stratus.errors import StoreUnavailable
from stratus.ids import ActivationId, InvokerId

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
class Booked:
    """One invoker's books, as the scheduler needs them for one action."""

    memory_mb: int
    action_in_flight: int


Refusal = Literal["per-minute", "concurrent"]


@dataclass(frozen=True)
class Refused:
    throttle: Refusal
    count: int  # the count that tripped it, this request included for per-minute
    allowed: int


class Ledger(Protocol):
    async def booked(self, invoker_ids: Sequence[str], action_key: str) -> list[Booked]:
        """A snapshot of the books of these invokers, for this action."""

    async def reserve(self, reservation: Reservation, capacity_mb: int, *, force: bool) -> bool:
        """Book the activation on its invoker if it fits (always with `force`). A reservation already
        held by this activation id is released first, so a retried placement never books twice."""

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


RESERVE = """
local slots, reservations = KEYS[1], KEYS[2]
local aid, akey, mem, conc, cap, force, record = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5]), ARGV[6], ARGV[7]
local old = redis.call('HGET', reservations, aid)
if old then
  local r = cjson.decode(old)
  local oslots = 'stratus:slots:' .. r.i
  local n = redis.call('HINCRBY', oslots, 'n:' .. r.k, -1)
  if n <= 0 then redis.call('HDEL', oslots, 'n:' .. r.k) end
  if (n % r.c) == 0 then redis.call('HINCRBY', oslots, 'mem', -r.m) end
  redis.call('HDEL', reservations, aid)
end
local n = tonumber(redis.call('HGET', slots, 'n:' .. akey) or '0')
local extra = 0
if (n % conc) == 0 then extra = mem end
local booked = tonumber(redis.call('HGET', slots, 'mem') or '0')
if force ~= '1' and extra > 0 and booked + extra > cap then return 0 end
redis.call('HINCRBY', slots, 'mem', extra)
redis.call('HINCRBY', slots, 'n:' .. akey, 1)
redis.call('HSET', reservations, aid, record)
return 1
"""

RELEASE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local r = cjson.decode(raw)
local slots = 'stratus:slots:' .. r.i
local n = redis.call('HINCRBY', slots, 'n:' .. r.k, -1)
if n <= 0 then redis.call('HDEL', slots, 'n:' .. r.k) end
if (n % r.c) == 0 then redis.call('HINCRBY', slots, 'mem', -r.m) end
redis.call('HDEL', KEYS[1], ARGV[1])
return raw
"""

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
        self._admit = client.register_script(ADMIT)

    @classmethod
    def from_url(cls, url: str) -> "RedisLedger":
        return cls(redis_client(url))

    async def booked(self, invoker_ids: Sequence[str], action_key: str) -> list[Booked]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for invoker_id in invoker_ids:
                    pipe.hmget(slots_key(invoker_id), ["mem", f"n:{action_key}"])
                rows: list[Any] = await pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(f"could not read the slot books: {exc}") from exc
        return [Booked(int(mem or 0), int(n or 0)) for mem, n in rows]

    async def reserve(self, reservation: Reservation, capacity_mb: int, *, force: bool) -> bool:
        args: list[str | int] = [
            reservation.activation_id,
            reservation.action_key,
            reservation.memory_mb,
            max(reservation.concurrency, 1),
            capacity_mb,
            "1" if force else "0",
            reservation.to_json(),
        ]
        try:
            done = await self._reserve(keys=[slots_key(reservation.invoker_id), RESERVATIONS_KEY], args=args)
        except RedisError as exc:
            raise StoreUnavailable(f"could not reserve slots: {exc}") from exc
        return bool(done)

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
            refused = await self._admit(keys=keys, args=[activation_id, per_minute, concurrent, now_ms, ttl_ms])
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
