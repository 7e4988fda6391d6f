"""Keep-alive HTTP/1.1 to the action proxy in one container: the invoker's hottest hop, kept lean.

Every warm activation is one request on this hop, so its cost is the platform's per-activation floor.
The peer is always our own proxy (actionproxy.server), so this speaks only what that
needs: POST or GET with a Content-Length body, a Content-Length or chunked answer, keep-alive. The
response is parsed by httptools (uvicorn's parser), on a plain asyncio Protocol: half of aiohttp's
CPU per request, with a lower latency (tests/bench/bench_container_hop.py: 100 against 219 µs per
request at concurrency 16, 172 against 342 at 1, the whole ProxyClient.run included), and the body is
read no further than the caller's limit (a function cannot make the invoker buffer gigabytes).

Errors: `Unreachable` when no connection could be made (nothing was sent), `Dropped` when the
connection failed or closed before a whole response came, `TooLarge` past the body limit. On any of
them, or on a timeout (the caller's `asyncio.timeout`), the connection is closed, never reused.
"""

import asyncio
import time
from typing import cast
from urllib.parse import urlsplit

import httptools

IDLE_S = 600.0  # an idle connection older than this is closed instead of reused (the proxy never closes one)


class Unreachable(Exception):
    """No connection could be made: nothing was sent."""


class Dropped(Exception):
    """The connection failed or closed before the whole response arrived."""


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the response is larger than {limit} bytes")
        self.limit = limit


class _Connection(asyncio.Protocol):
    """One TCP connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = time.monotonic()
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = 0
        self.reusable = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Dropped(f"bad response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(Dropped(str(exc) if exc else "the connection closed"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._limit:
            self._fail(TooLarge(self._limit))
            return
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            self.reusable = self._parser.should_keep_alive()
            answer.set_result((self._parser.get_status_code(), b"".join(self._chunks)))

    def send(self, request: bytes, limit: int) -> "asyncio.Future[tuple[int, bytes]]":
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._chunks, self._size, self._limit, self.reusable = [], 0, limit, False
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: Exception) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_exception(exc)
        self.close()


class Http1Pool:
    """Connections to one proxy (`http://host:port`); idle ones are reused, newest first."""

    def __init__(self, address: str) -> None:
        parts = urlsplit(address)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._host_header = f"{self._host}:{self._port}".encode()
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(self, method: str, path: str, body: bytes, headers: bytes, limit: int) -> tuple[int, bytes]:
        """(status, body). `headers`: extra header lines, each ending in CRLF. Cancel to time out."""
        connection = await self._connection()
        head = (
            f"{method} {path} HTTP/1.1\r\n".encode()
            + b"Host: "
            + self._host_header
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n"
            + headers
            + b"\r\n"
        )
        try:
            answer = await connection.send(head + body, limit)
        except BaseException:
            connection.close()
            raise
        if connection.reusable and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable and time.monotonic() - connection.idle_since < IDLE_S:
                return connection
            connection.close()
        try:
            _, protocol = await asyncio.get_running_loop().create_connection(_Connection, self._host, self._port)
        except OSError as exc:
            raise Unreachable(str(exc) or type(exc).__name__) from exc
        return protocol

    def close(self) -> None:
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()
