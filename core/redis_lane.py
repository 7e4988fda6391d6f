"""A Redis connection held by one caller that sends a batch at a time: the hot path's round trips without
redis-py's per-call machinery.

Every call through redis-py's client takes a connection from the pool and gives it back (a condition, a
timeout, timing hooks each way), and a pipeline is an object of its own whose reset runs as a task; that
is about 85 µs of CPU per round trip more than sending the same bytes on a connection already held
(tests/bench/bench_redis_calls.py). The callers that carry each activation send one batch at a time
anyway (a Coalescer's flush: placements, ends, publishes, acks; a consumer's read loop), so each gets a
Lane: one connection, kept, and its commands packed and sent on it straight.

A second call made while one is under way (two callers sharing a lane) does not wait: it takes a
connection from the pool, as any other command. A connection that broke, or was left mid-reply by a
cancelled call, is closed and replaced at the next call; one Redis closed while it was idle (a restart)
is seen before anything is sent on it, so a command never goes out twice.

Commands go out in the caller's own task. redis-py's `send_packed_command` wraps each write in
`asyncio.wait_for` when a socket timeout is set, which on Python 3.11 (the images' Python) is a task per
send, and a cancel that lands as that task finishes is lost: the call goes on as if never cancelled
(CPython gh-86296, fixed in 3.12), so a service's stop could wait on a reader that kept reading
(tests/integration/test_redis_lane.py; redis-py's own handshake when it connects still sends that way). The
write itself does not wait here: it is handed to the transport whole, and only a batch larger than the
transport's buffer waits for room, within the socket timeout.

Example: `await lane.call([("EVALSHA", sha, 1, key, arg)])` -> `[reply]`; an error reply comes back in
its place as the ResponseError (e.g. NoScriptError), the other replies are read all the same;
`checked(replies)` raises the first one, as redis-py's pipeline does.
"""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT

Command = Sequence[EncodableT]


class Lane:
    def __init__(self, client: "aioredis.Redis") -> None:
        self._pool = client.connection_pool
        self._held: AbstractConnection | None = None
        self._busy = False

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, in order (an error reply as its ResponseError). Raises RedisError when
        Redis cannot be reached."""
        if self._busy:
            return await self._on_pool(commands)
        self._busy = True
        try:
            conn = await self._connection()
            try:
                return await _exchange(conn, commands)
            except BaseException:
                self._held = None  # replies may be left unread: never reused
                await _drop(self._pool, conn)
                raise
        finally:
            self._busy = False

    async def _connection(self) -> AbstractConnection:
        conn = self._held
        if conn is not None and conn.is_connected and not await conn.can_read():
            return conn  # connected, and nothing unexpected waiting on it (can_read: data or EOF)
        if conn is not None:
            self._held = None
            await _drop(self._pool, conn)
        self._held = await self._pool.get_connection()  # type: ignore[no-untyped-call]  # connects, checks
        return self._held

    async def _on_pool(self, commands: Sequence[Command]) -> list[Any]:
        conn = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            replies = await _exchange(conn, commands)
        except BaseException:
            await _drop(self._pool, conn)
            raise
        await self._pool.release(conn)
        return replies


async def _exchange(conn: AbstractConnection, commands: Sequence[Command]) -> list[Any]:
    await _send(conn, conn.pack_commands(commands))
    replies: list[Any] = []
    for _ in commands:
        try:
            replies.append(await conn.read_response())
        except ResponseError as exc:  # an error reply, read whole: the next reply follows it
            replies.append(exc)
    return replies


async def _send(conn: AbstractConnection, packed: list[bytes]) -> None:
    """Write a batch on a connected connection, in this task (see the module's docstring)."""
    writer: asyncio.StreamWriter | None = getattr(conn, "_writer", None)
    if writer is None:  # not connected (or another redis-py): its own send, which connects
        await conn.send_packed_command(packed, check_health=False)
        return
    try:
        writer.writelines(packed)
        if writer.transport.get_write_buffer_size():  # not all written at once: wait for room
            async with asyncio.timeout(conn.socket_timeout):
                await writer.drain()
    except TimeoutError as exc:  # before OSError, of which it is one
        raise RedisTimeoutError(f"Redis took no more of a batch within {conn.socket_timeout} s") from exc
    except OSError as exc:
        raise ConnectionError(f"Error while writing to Redis: {exc}") from exc


def checked(replies: list[Any]) -> list[Any]:
    """The replies, or the first error reply among them raised (a ResponseError, so a RedisError)."""
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies


async def _drop(pool: aioredis.ConnectionPool, conn: AbstractConnection) -> None:
    await conn.disconnect(nowait=True)
    await pool.release(conn)


def field_map(reply: Mapping[bytes, bytes] | list[bytes] | None) -> dict[bytes, bytes]:
    """A hash's or a stream entry's fields as a dict, from a reply as it comes: a map (a hash in RESP3), a
    flat [field, value, ...] list (RESP2, and an entry's fields in both), or nil (a trimmed entry) as {}."""
    if not reply:
        return {}
    if isinstance(reply, Mapping):
        return dict(reply)
    return dict(zip(reply[::2], reply[1::2], strict=True))
