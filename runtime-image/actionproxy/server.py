"""A small threaded HTTP/1.1 server for the proxy, on the standard library's sockets.

Why not uvicorn, nor even asyncio: a cold start waits until the proxy listens, and importing uvicorn and
Starlette, then asyncio alone, took longer than everything else the proxy loads (README, "Cold starts").
The proxy's only client is the invoker, so this serves what it sends and little more: one thread per
connection, one request at a time on it, keep-alive (HTTP/1.1's default; `Connection: close` and HTTP/1.0
close), bodies by Content-Length or chunked, `Expect: 100-continue`. Concurrent activations arrive on
concurrent connections, so they run side by side. A malformed request gets 400 (or 413/431/505) and a close.
An idle connection stays open until the client closes it (invoker.http1 does after 600 s), so a request
never races a server-side close.
"""

import socket
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

Headers = list[tuple[bytes, bytes]]  # names lower-cased
Handler = Callable[[str, str, Headers, bytes], tuple[int, Headers, bytes]]  # (method, path, headers, body)
HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 128 * 1024 * 1024  # /init carries the code: up to 48 MB of base64, inside JSON
REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    413: "Content Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
    502: "Bad Gateway", 505: "HTTP Version Not Supported",
}  # fmt: skip


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Request:
    def __init__(self, method: str, target: str, version: str, headers: Headers) -> None:
        self.method, self.version, self.headers = method, version, headers
        self.path = target.partition("?")[0]

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    @property
    def keep_alive(self) -> bool:
        connection = (self.header(b"connection") or b"").lower()
        if self.version == "HTTP/1.0":
            return connection == b"keep-alive"
        return connection != b"close"


class Server:
    """Listens on construction (on `host`:`port`, or takes over the listening socket `listening_fd`);
    `serve_forever()` accepts until `close()` (from another thread)."""

    def __init__(self, handler: Handler, host: str = "", port: int = 0, *, listening_fd: int | None = None) -> None:
        self._handler = handler
        if listening_fd is None:
            self._socket = socket.create_server((host, port), backlog=128)
        else:
            self._socket = socket.socket(fileno=listening_fd)
        self.port: int = self._socket.getsockname()[1]

    def serve_forever(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed
                return
            try:
                threading.Thread(target=self._connection, args=(connection,), daemon=True).start()
            except RuntimeError as exc:  # no thread to be had (the pids limit): refuse this one, keep serving
                _report(exc, "the proxy could not take a connection")
                connection.close()

    def close(self) -> None:
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()

    def _connection(self, connection: socket.socket) -> None:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = connection.makefile("rb")
        try:
            while self._one(reader, connection):
                pass
        except OSError:
            pass  # the client went away
        finally:
            reader.close()
            connection.close()

    def _one(self, reader: BinaryIO, connection: socket.socket) -> bool:
        """Serve one request; whether the connection stays open for another."""
        try:
            request = read_head(reader)
            if request is None:
                return False  # closed between requests
            body = read_body(request, reader, connection)
        except BadRequest as exc:
            connection.sendall(response(exc.status, [(b"content-type", b"application/json")], _error(exc), False))
            return False
        try:
            status, headers, payload = self._handler(request.method, request.path, request.headers, body)
        except Exception as exc:
            _report(exc, f"the proxy failed on {request.method} {request.path}")
            status, headers, payload = 500, [], b'{"error":"The action proxy failed on this request."}'
        connection.sendall(response(status, headers, b"" if request.method == "HEAD" else payload, request.keep_alive))
        return request.keep_alive


def read_head(reader: BinaryIO) -> Request | None:
    lines: list[bytes] = []
    size = 0
    while True:
        line = reader.readline(HEAD_LIMIT + 1)
        size += len(line)
        if size > HEAD_LIMIT:
            raise BadRequest(431, f"request head over {HEAD_LIMIT} bytes")
        if not line:
            if lines:
                raise BadRequest(400, "the request ended inside its head")
            return None
        if line in (b"\r\n", b"\n"):
            if lines:
                return parse_head(lines)
            continue  # tolerated: blank lines before a request
        lines.append(line.rstrip(b"\r\n"))


def parse_head(lines: list[bytes]) -> Request:
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


def read_body(request: Request, reader: BinaryIO, connection: socket.socket) -> bytes:
    if (request.header(b"expect") or b"").lower() == b"100-continue":
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if (request.header(b"transfer-encoding") or b"").lower() == b"chunked":
        return _chunked(reader)
    length = request.header(b"content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest(400, "malformed Content-Length")
    if int(length) > BODY_LIMIT:
        raise BadRequest(413, f"request body over {BODY_LIMIT} bytes")
    return _exactly(reader, int(length))


def _exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise OSError("the client closed the connection inside the body")
    return data


def _chunked(reader: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            size = int(reader.readline(1024).split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "malformed chunk size") from None
        total += size
        if total > BODY_LIMIT:
            raise BadRequest(413, f"request body over {BODY_LIMIT} bytes")
        if size == 0:
            while reader.readline(HEAD_LIMIT) not in (b"\r\n", b"\n", b""):  # trailers, ignored
                pass
            return b"".join(chunks)
        chunks.append(_exactly(reader, size))
        _exactly(reader, 2)


def response(status: int, headers: Headers, body: bytes, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, '')}".encode()]
    lines += [name + b": " + value for name, value in headers if name.lower() not in (b"content-length", b"connection")]
    lines.append(b"content-length: " + str(len(body)).encode())
    if not keep_alive:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _report(exc: BaseException, what: str) -> None:
    import traceback

    stream = sys.__stderr__ or sys.stderr  # the container's own log, not an activation's
    stream.write(f"{what}:\n{''.join(traceback.format_exception(exc))}")


def _error(exc: BadRequest) -> bytes:
    return b'{"error":"' + str(exc).encode() + b'"}'
