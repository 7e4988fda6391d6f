"""A small HTTP/1.1 server for the proxy's ASGI app, on asyncio streams from the standard library.

Why not uvicorn: a cold start waits until the proxy listens, and importing uvicorn (with click, logging
config, multiprocessing) and Starlette took longer than starting the interpreter and asyncio together
(README, "Cold starts"). The proxy's only client is the invoker, so this serves what it sends and little
more: one request at a time per connection, keep-alive (HTTP/1.1 default; `Connection: close` and
HTTP/1.0 close), bodies by Content-Length or chunked, `Expect: 100-continue`. Each connection is its own
task, so concurrent activations use concurrent connections. A malformed request gets 400 and a close.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

log = logging.getLogger(__name__)

App = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]
HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 128 * 1024 * 1024  # /init carries the code: up to 48 MB of base64, inside JSON


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Request:
    def __init__(self, method: str, target: str, version: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.method, self.version, self.headers = method, version, headers
        self.path, _, self.query = target.partition("?")

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    @property
    def keep_alive(self) -> bool:
        connection = (self.header(b"connection") or b"").lower()
        if self.version == "HTTP/1.0":
            return connection == b"keep-alive"
        return connection != b"close"


async def serve(app: App, host: str, port: int, *, started: Callable[[], None] | None = None) -> None:
    """Serve until cancelled."""
    server = await asyncio.start_server(lambda r, w: _connection(app, r, w), host, port, limit=HEAD_LIMIT)
    async with server:
        if started is not None:
            started()
        await server.serve_forever()


async def _connection(app: App, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while await _one(app, reader, writer):
            pass
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # the client went away
    finally:
        writer.close()


async def _one(app: App, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Serve one request; whether the connection stays open for another."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            await _error(writer, BadRequest(400, "the request ended inside its head"))
        return False
    except asyncio.LimitOverrunError:
        await _error(writer, BadRequest(431, f"request head over {HEAD_LIMIT} bytes"))
        return False
    try:
        request = parse_head(head)
        body = await _read_body(request, reader, writer)
    except BadRequest as exc:
        await _error(writer, exc)
        return False
    status, headers, payload = await _call(app, request, body)
    _write(writer, status, headers, b"" if request.method == "HEAD" else payload, request.keep_alive)
    await writer.drain()
    return request.keep_alive


def parse_head(head: bytes) -> Request:
    lines = head[:-4].split(b"\r\n")
    try:
        method, target, version = lines[0].decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest(505, f"{version} is not supported")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        headers.append((name.lower(), value.strip()))
    return Request(method, target, version, headers)


async def _read_body(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    if (request.header(b"expect") or b"").lower() == b"100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if (request.header(b"transfer-encoding") or b"").lower() == b"chunked":
        return await _chunked(reader)
    length = request.header(b"content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest(400, "malformed Content-Length")
    if int(length) > BODY_LIMIT:
        raise BadRequest(413, f"request body over {BODY_LIMIT} bytes")
    return await reader.readexactly(int(length))


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadRequest(400, "malformed chunk size") from None
        total += size
        if total > BODY_LIMIT:
            raise BadRequest(413, f"request body over {BODY_LIMIT} bytes")
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, ignored
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _call(app: App, request: Request, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": request.version[5:],
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.query.encode(),
        "root_path": "",
        "headers": request.headers,
    }
    started: dict[str, Any] = {}
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Future()  # no disconnect is ever reported: the request is over when the app answers
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        log.exception("the app failed on %s %s", request.method, request.path)
        return 500, [], b'{"error":"The action proxy failed on this request."}'
    return int(started.get("status", 500)), list(started.get("headers", [])), b"".join(chunks)


def _write(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[bytes, bytes]], body: bytes, keep_alive: bool
) -> None:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    lines += [name + b": " + value for name, value in headers if name.lower() not in (b"content-length", b"connection")]
    lines.append(b"content-length: " + str(len(body)).encode())
    if not keep_alive:
        lines.append(b"connection: close")
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)


async def _error(writer: asyncio.StreamWriter, exc: BadRequest) -> None:
    body = b'{"error":"' + str(exc).encode() + b'"}'
    _write(writer, exc.status, [(b"content-type", b"application/json")], body, keep_alive=False)
    try:
        await writer.drain()
    except ConnectionError:
        pass
