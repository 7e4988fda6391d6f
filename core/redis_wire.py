"""One Redis connection whose replies hiredis parses as the bytes arrive: the lanes' wire (core.redis_lane).

redis-py reads a reply through an asyncio StreamReader: the bytes are buffered, the reading task wakes,
copies them out, feeds its parser, and every read sets a timeout of its own. Here the connection is
the protocol: the loop hands each chunk to hiredis, and the batch's future is resolved in the same
callback once its last reply is whole. A stream hop through core.bus (`XADD` in one process, the entry
in another's hands) went from 237 / 199 to 211 / 168 µs p50 with it (README, Performance).

Commands are packed by hiredis too. The connection speaks RESP2 (`AUTH`, then `SELECT`): every reply a
lane reads (scripts, `XADD`, `XACK`, `XREAD[GROUP]`) comes the same in both versions but a stream read,
which core.bus takes in either shape. An error reply comes back as its redis-py exception (a
NoScriptError for `NOSCRIPT`), in its place among the replies.

Example: `conn = await RedisWire.connect(client.connection_pool)`;
`await conn.call([(b"XADD", b"s", b"*", b"f", b"v")])` -> `[b"1700000000000-0"]`.
"""

import asyncio
import ssl
from collections.abc import Sequence
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis._parsers import BaseParser
from redis.asyncio.connection import SSLConnection
from redis.exceptions import ConnectionError, InvalidResponse, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT

Command = Sequence[EncodableT]
DEFAULT_TIMEOUT_S = 10.0  # a reply's wait when the pool sets no socket timeout
_NOT_YET = object()  # what the Reader's gets() returns while a reply is not whole


class RedisWire(asyncio.Protocol):
    """Use `connect`. One batch at a time: a second `call` before the first returned is a bug here."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._reader = hiredis.Reader(
            protocolError=InvalidResponse, replyError=BaseParser.parse_error, notEnoughData=_NOT_YET
        )
        self._transport: asyncio.Transport | None = None
        self._lost: Exception | None = None
        self._replies: list[Any] = []
        self._expected = 0
        self._done: asyncio.Future[list[Any]] | None = None
        self._room: asyncio.Future[None] | None = None  # set while the transport's buffer is over its mark

    @classmethod
    async def connect(cls, pool: "aioredis.ConnectionPool") -> "RedisWire":
        """Connected and authenticated as the pool's own connections are (its `connection_kwargs`: a unix
        `path`, or `host` and `port` and, for rediss://, redis-py's TLS context from its `ssl_*` options;
        `username`, `password`, `db`; the socket timeouts). Raises RedisError."""
        options = pool.connection_kwargs
        loop = asyncio.get_running_loop()
        wire = cls(options.get("socket_timeout") or DEFAULT_TIMEOUT_S)
        connect_s = options.get("socket_connect_timeout") or wire._timeout_s
        try:
            async with asyncio.timeout(connect_s):
                if options.get("path"):
                    await loop.create_unix_connection(lambda: wire, options["path"])
                else:
                    host, port = options.get("host", "localhost"), options.get("port", 6379)
                    await loop.create_connection(lambda: wire, host, port, ssl=_tls(pool))
        except TimeoutError as exc:
            raise RedisTimeoutError(f"Timeout connecting to Redis within {connect_s} s") from exc
        except OSError as exc:
            raise ConnectionError(f"Error connecting to Redis: {exc}") from exc
        handshake: list[Command] = []
        if options.get("password"):
            user = (options["username"],) if options.get("username") else ()
            handshake.append(("AUTH", *user, options["password"]))
        if options.get("db"):
            handshake.append(("SELECT", options["db"]))
        try:
            checked(await wire.call(handshake))
        except BaseException:
            wire.close()
            raise
        return wire

    @property
    def usable(self) -> bool:
        """Connected, and nothing unexpected arrived since the last batch (a restart's EOF, a stray reply)."""
        return self._lost is None and self._transport is not None and not self._reader.has_data()

    async def call(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, in order; an error reply as its ResponseError. Raises RedisError when the
        connection fails or a reply takes over the timeout; the connection is then closed."""
        if self._lost is not None or self._transport is None:
            raise ConnectionError(f"the connection to Redis is closed ({self._lost or 'never opened'})")
        if not commands:
            return []
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._done = done
        self._replies, self._expected = [], len(commands)
        try:
            async with asyncio.timeout(self._timeout_s):
                self._transport.write(b"".join([_packed(c) for c in commands]))
                if self._room is not None:  # not all taken at once: wait until the transport drained
                    await self._room
                replies = await done
            for reply in replies:  # an error reply redis-py raises as a connection's (LOADING, NOAUTH, ...)
                if isinstance(reply, RedisError) and not isinstance(reply, ResponseError):
                    raise reply
            return replies
        except TimeoutError as exc:
            self.close()
            raise RedisTimeoutError(f"Redis did not answer within {self._timeout_s} s") from exc
        except BaseException:
            self.close()  # replies may be left unread: never reused
            raise
        finally:
            self._done = None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._lost = self._lost or ConnectionError("closed")

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport's subclasses

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        if self._done is None:
            return  # nobody asked: `usable` says so before the next batch
        try:
            while len(self._replies) < self._expected and (reply := self._reader.gets()) is not _NOT_YET:
                self._replies.append(reply)
        except InvalidResponse as exc:
            self._fail(exc)
            return
        if len(self._replies) == self._expected and not self._done.done():
            self._done.set_result(self._replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Redis closed the connection{f': {exc}' if exc else ''}"))

    def pause_writing(self) -> None:
        self._room = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        self._room = None

    def _fail(self, exc: Exception) -> None:
        self._lost = self._lost or exc
        for waiter in (self._done, self._room):
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
                waiter.exception()  # retrieved: the call may be awaiting the other one (no "never retrieved" log)
        if self._transport is not None:
            self._transport.close()


def checked(replies: list[Any]) -> list[Any]:
    """The replies, or the first error reply among them raised (a ResponseError, so a RedisError)."""
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies


def _tls(pool: "aioredis.ConnectionPool") -> ssl.SSLContext | None:
    """redis-py's own context for a rediss:// pool, built as its connections build theirs (no I/O but
    reading the certificate files it names)."""
    if not issubclass(pool.connection_class, SSLConnection):
        return None
    return pool.connection_class(**pool.connection_kwargs).ssl_context.get()


def _packed(command: Command) -> bytes:
    return hiredis.pack_command(tuple(command))  # type: ignore[arg-type,no-any-return]  # its stub: a 1-tuple
