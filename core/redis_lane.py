"""A Redis connection held by one caller that sends a batch at a time: the hot path's round trips without
redis-py's per-call machinery.

Every call through redis-py's client takes a connection from the pool and gives it back (a condition, a
timeout, timing hooks each way), reads each reply through a StreamReader, and a pipeline is an object of
its own whose reset runs as a task. The callers that carry each activation send one batch at a time
anyway (a Coalescer's flush: placements, ends, publishes, acks; a consumer's read loop), so each gets a
Lane: one connection of its own (core.redis_wire), kept, its commands packed and its replies parsed by
hiredis, in the caller's task (tests/bench/bench_redis_calls.py measures the round trip against a bare
socket).

A second call made while one is under way (two callers sharing a lane) does not wait: it gets a
connection of its own, kept afterwards up to KEPT_IDLE. A connection that broke, or was left mid-reply by
a cancelled call, is closed and replaced at the next call; one Redis closed while it was idle (a restart)
is seen before anything is sent on it, so a command never goes out twice.

Nothing here sends through redis-py's `send_packed_command`: with a socket timeout set it wraps each write
in `asyncio.wait_for`, which on Python 3.11 (the images' Python) is a task per send, and a cancel that
lands as that task finishes is lost: the call goes on as if never cancelled (CPython gh-86296, fixed in
3.12), so a service's stop could wait on a reader that kept reading (tests/integration/test_redis_lane.py).

Example: `await lane.call([("EVALSHA", sha, 1, key, arg)])` -> `[reply]`; an error reply comes back in
its place as the ResponseError (e.g. NoScriptError), the other replies are read all the same;
`checked(replies)` raises the first one, as redis-py's pipeline does.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis

from core.redis_wire import Command, RedisWire

KEPT_IDLE = 2  # connections a lane keeps between calls: one, and one for a call made while it is busy


class Lane:
    def __init__(self, client: "aioredis.Redis") -> None:
        self._pool = client.connection_pool
        self._idle: list[RedisWire] = []

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, in order (an error reply as its ResponseError). Raises RedisError when
        Redis cannot be reached."""
        wire = await self._wire()
        replies = await wire.call(commands)  # a wire that failed (or was cancelled) closed itself
        if len(self._idle) < KEPT_IDLE:
            self._idle.append(wire)
        else:
            wire.close()
        return replies

    async def _wire(self) -> RedisWire:
        while self._idle:
            wire = self._idle.pop()
            if wire.usable:  # not broken, not closed by Redis while it was idle (a restart)
                return wire
            wire.close()
        return await RedisWire.connect(self._pool)


def field_map(reply: Mapping[bytes, bytes] | list[bytes] | None) -> dict[bytes, bytes]:
    """A hash's or a stream entry's fields as a dict, from a reply as it comes: a map (a hash in RESP3), a
    flat [field, value, ...] list (RESP2, and an entry's fields in both), or nil (a trimmed entry) as {}."""
    if not reply:
        return {}
    if isinstance(reply, Mapping):
        return dict(reply)
    return dict(zip(reply[::2], reply[1::2], strict=True))
